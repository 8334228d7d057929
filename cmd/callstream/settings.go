package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// envPrefix prefixes the environment variable of every run flag:
// --app-key is CALLSTREAM_APP_KEY.
const envPrefix = "CALLSTREAM_"

// usageError is a bad flag, environment value or config key: a one-line
// message naming the setting, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseLayered parses args into fs, then fills every flag not given on the
// command line from its environment variable, else from the YAML file named
// by --config (keys are the flag names). Precedence: flag > environment >
// file > default. Unknown config keys are refused.
func parseLayered(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	file, err := loadConfigFile(fs, given, lookupEnv)
	if err != nil {
		return err
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" {
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, usagef("%s: invalid value: %v", envName(f.Name), err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, usagef("config key %s: invalid value: %v", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// loadConfigFile reads the YAML file of --config (or CALLSTREAM_CONFIG)
// into flag values, as strings; lists become comma-separated.
func loadConfigFile(fs *flag.FlagSet, given map[string]bool, lookupEnv func(string) (string, bool)) (map[string]string, error) {
	path := ""
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
		if v, ok := lookupEnv(envName("config")); ok && !given["config"] {
			path = v
		}
	}
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, usagef("--config %s: %v", path, oneLine(err))
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if fs.Lookup(k) == nil || k == "config" {
			return nil, usagef("--config %s: unknown key %q", path, k)
		}
		s, err := scalar(v)
		if err != nil {
			return nil, usagef("config key %s: %v", k, err)
		}
		out[k] = s
	}
	return out, nil
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
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
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

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// exitStatus prints err as one line and returns the exit status it calls
// for: 2 for bad usage, 0 for -h, 1 otherwise.
func exitStatus(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "callstream %s: %s\n", cmd, oneLine(err))
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
