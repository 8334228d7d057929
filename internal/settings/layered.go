// Package settings is the settings layer of the callstream commands: every
// flag also an environment variable and a key of a YAML file (flag >
// environment > file > default), the settings of run, tail and simulate,
// and the lists (`sources:`, `simulate --apps`) whose entries are set over
// the settings of the command line. Every refused setting is a
// *UsageError: one line naming the setting, exit status 2.
package settings

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// envPrefix prefixes the environment variable of every run flag:
// --app-key is CALLSTREAM_APP_KEY.
const envPrefix = "CALLSTREAM_"

// UsageError is a bad flag, environment value or config key: a one-line
// message naming the setting, exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef is a *UsageError of the formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Sprintf(format, args...)}
}

// NoEnv is the environment of commands whose flags have no variables.
func NoEnv(string) (string, bool) { return "", false }

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then fills every flag not given on the
// command line from its environment variable, else from the YAML file named
// by --config (keys are the flag names). Precedence: flag > environment >
// file > default. Unknown config keys are refused. A value a flag refuses
// is reported the same way from all three: the flag, the value given, what
// a valid one looks like, and where the value came from unless it was the
// command line.
func Parse(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	fs.SetOutput(io.Discard)
	var refused *valueError
	restore := checkValues(fs, &refused)
	defer restore()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		if refused != nil {
			// fs.Parse keeps only the text of the value's error.
			return refused.usage("")
		}
		return Usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	path, file, err := loadConfigFile(fs, given, lookupEnv)
	if err != nil {
		return err
	}
	var errs []error
	set := func(name, value, origin string) {
		if err := fs.Set(name, value); err != nil {
			var v *valueError
			if errors.As(err, &v) {
				errs = append(errs, v.usage(origin))
			} else {
				errs = append(errs, Usagef("--%s: invalid value %q (from %s): %v", name, value, origin, err))
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" {
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok {
			set(f.Name, v, envName(f.Name))
			return
		}
		if v, ok := file[f.Name]; ok {
			set(f.Name, v, "config key "+f.Name+" in "+path)
		}
	})
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// InvalidValue is the one-line error of a value a setting refuses.
func InvalidValue(flagName, value, want string) error {
	return Usagef("--%s: invalid value %q: %s", flagName, value, want)
}

// valueError is a value a flag refused, with what the flag wants.
type valueError struct {
	flag, value, want string
}

func (e *valueError) Error() string { return e.want }

// usage is the one-line error; origin, when not empty, names where the
// value came from (an environment variable, a config key).
func (e *valueError) usage(origin string) error {
	if origin == "" {
		return InvalidValue(e.flag, e.value, e.want)
	}
	return Usagef("--%s: invalid value %q (from %s): %s", e.flag, e.value, origin, e.want)
}

// checkedValue wraps a flag's value, so that a value it refuses is a
// *valueError saying what the flag wants, and is kept in *refused for
// fs.Parse, which reports only the text of the error.
type checkedValue struct {
	flag.Value
	name    string
	refused **valueError
}

func (v *checkedValue) Set(s string) error {
	err := v.Value.Set(s)
	if err == nil {
		return nil
	}
	e := &valueError{flag: v.name, value: s, want: wantOf(v.Value, err)}
	*v.refused = e
	return e
}

// checkedBool keeps a bool flag a bool flag: the flag package looks for
// IsBoolFlag to accept --flag without a value.
type checkedBool struct{ *checkedValue }

func (checkedBool) IsBoolFlag() bool { return true }

// checkValues wraps every flag of fs in a checkedValue and returns the
// function that puts the flags' own values back, so that -h still prints
// their types and defaults.
func checkValues(fs *flag.FlagSet, refused **valueError) (restore func()) {
	orig := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		orig[f] = f.Value
		c := &checkedValue{Value: f.Value, name: f.Name, refused: refused}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = checkedBool{c}
			return
		}
		f.Value = c
	})
	return func() {
		for f, v := range orig {
			f.Value = v
		}
	}
}

// wantOf says what a flag of v's type wants. The flag package's own errors
// say only "parse error"; a value type of ours says what it wants itself.
func wantOf(v flag.Value, err error) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration such as 30s or 5m"
	case int, int64, uint, uint64:
		return "want a whole number"
	case float64:
		return "want a number such as 2.5"
	case bool:
		return "want true or false"
	}
	return err.Error()
}

// loadConfigFile reads the YAML file of --config (or CALLSTREAM_CONFIG)
// into flag values, as strings; lists become comma-separated.
// It returns the file's path too, for the errors of its values.
func loadConfigFile(fs *flag.FlagSet, given map[string]bool, lookupEnv func(string) (string, bool)) (string, map[string]string, error) {
	path := ""
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
		if v, ok := lookupEnv(envName("config")); ok && !given["config"] {
			path = v
		}
	}
	if path == "" {
		return "", nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, Usagef("--config: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return "", nil, Usagef("--config %s: %v", path, OneLine(err))
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if fs.Lookup(k) == nil || k == "config" {
			return "", nil, Usagef("--config %s: unknown key %q", path, k)
		}
		if k == "sources" {
			// A list of mappings: --sources reads it back as YAML.
			b, err := yaml.Marshal(v)
			if err != nil {
				return "", nil, Usagef("--sources: invalid value (from config key sources in %s): %v", path, OneLine(err))
			}
			out[k] = string(b)
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return "", nil, Usagef("--%s: invalid value (from config key %s in %s): %v", k, k, path, err)
		}
		out[k] = s
	}
	return path, out, nil
}

func scalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := scalar(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		// A mapping is KEY=VALUE pairs, for settings such as
		// --topic-config; sorted, so that the result is stable.
		keys := slices.Sorted(maps.Keys(v))
		for i, k := range keys {
			s, err := scalar(v[k])
			if err != nil {
				return "", err
			}
			keys[i] = k + "=" + s
		}
		return strings.Join(keys, ","), nil
	default:
		return fmt.Sprint(v), nil
	}
}

// OneLine is err's message on one line.
func OneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
