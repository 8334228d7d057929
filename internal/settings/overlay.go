package settings

import (
	"flag"
	"maps"
	"slices"
)

// entry is one mapping of a list of settings, a source of `sources:` or an
// app of `simulate --apps`: its keys are flag names, each set over the
// settings of the command line.
type entry struct {
	values map[string]string
	// where names the entry in errors ("sources[1] (acme)"), and keySep
	// joins it to a key in the error of a bad value ("sources[1]
	// (acme).page-size").
	where, keySep string
	// allowed says whether an entry may set a flag; notA says in the
	// error what the others are not ("a per-source setting").
	allowed func(flagName string) bool
	notA    string
}

// overlay parses args into fs afresh (with the environment of lookupEnv
// and the file of --config), as the command line alone gives them, then
// sets e's keys on fs. appKey and appKeyFile are the flags' app key
// settings: an entry that sets one drops the other given globally, the two
// being exclusive for one entry.
func (e entry) overlay(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool), appKey, appKeyFile *string) error {
	if err := Parse(fs, args, lookupEnv); err != nil {
		return err
	}
	if _, ok := e.values["app-key-file"]; ok {
		*appKey = ""
	}
	if _, ok := e.values["app-key"]; ok {
		*appKeyFile = ""
	}
	for _, k := range slices.Sorted(maps.Keys(e.values)) {
		if !e.allowed(k) {
			return Usagef("%s: %q is not %s", e.where, k, e.notA)
		}
		if err := fs.Set(k, e.values[k]); err != nil {
			return Usagef("%s%s%s: invalid value: %v", e.where, e.keySep, k, err)
		}
	}
	return nil
}

// scalars turns the values of a YAML mapping into flag values (see
// scalar); on a value that is not one it returns its key.
func scalars(m map[string]any) (map[string]string, string, error) {
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, err := scalar(m[k])
		if err != nil {
			return nil, k, err
		}
		out[k] = s
	}
	return out, "", nil
}
