package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// root is the repository's top directory, relative to this package.
const root = ".."

// Values stamped into the test binary through the Dockerfile's -ldflags.
const (
	testVersion = "v0.0.0-deploytest"
	testCommit  = "0123456789abcdef"
)

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
	flagsMu   sync.Mutex
	flagCache = map[string]map[string]flagInfo{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callstream-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// callstream returns the path of the callstream binary, built once per test
// run from ../cmd/callstream with the -ldflags of the Dockerfile.
func callstream(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "callstream")
		buildErr = buildBinary(binPath)
	})
	if buildErr != nil {
		t.Fatalf("building callstream: %v", buildErr)
	}
	return binPath
}

// buildBinary runs `go build` the way the Dockerfile does: CGO off,
// -trimpath and the Dockerfile's own -ldflags with VERSION and COMMIT set.
func buildBinary(out string) error {
	ldflags, err := dockerfileLDFlags()
	if err != nil {
		return err
	}
	ldflags = strings.NewReplacer("${VERSION}", testVersion, "${COMMIT}", testCommit).Replace(ldflags)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./cmd/callstream")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, b)
	}
	return nil
}

var ldflagsRE = regexp.MustCompile(`-ldflags "([^"]*)"`)

// dockerfileLDFlags returns the -ldflags argument of the Dockerfile's go
// build.
func dockerfileLDFlags() (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return "", err
	}
	m := ldflagsRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("the Dockerfile has no -ldflags \"…\"")
	}
	return string(m[1]), nil
}

// flagInfo is one flag as `callstream CMD -h` lists it.
type flagInfo struct {
	isBool bool
}

var helpFlagRE = regexp.MustCompile(`^  -([a-z0-9][a-z0-9-]*)(?: (\S+))?`)

// flagsOf lists the flags of a subcommand, read from the binary's own -h.
func flagsOf(t *testing.T, sub string) map[string]flagInfo {
	t.Helper()
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if fs, ok := flagCache[sub]; ok {
		return fs
	}
	out, err := exec.Command(callstream(t), sub, "-h").Output()
	if err != nil {
		t.Fatalf("callstream %s -h: %v", sub, err)
	}
	fs := map[string]flagInfo{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := helpFlagRE.FindStringSubmatch(sc.Text()); m != nil {
			fs[m[1]] = flagInfo{isBool: m[2] == ""}
		}
	}
	if len(fs) == 0 {
		t.Fatalf("callstream %s -h lists no flags:\n%s", sub, out)
	}
	flagCache[sub] = fs
	return fs
}

// parsedArgs are the flags of one command line: name to value ("true" for
// a bool given bare), in order.
type parsedArgs struct {
	sub   string
	names []string
	vals  map[string]string
}

// parseArgs checks a callstream command line (subcommand, then flags)
// against the binary's flags: every flag must exist, every non-bool flag
// must have a value, and nothing may follow that is not a flag.
func parseArgs(t *testing.T, args []string) (parsedArgs, error) {
	t.Helper()
	if len(args) == 0 {
		return parsedArgs{}, fmt.Errorf("no subcommand")
	}
	p := parsedArgs{sub: args[0], vals: map[string]string{}}
	known := flagsOf(t, p.sub)
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return p, fmt.Errorf("%s: %q is not a flag", p.sub, a)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := known[name]
		if !ok {
			return p, fmt.Errorf("callstream %s has no flag --%s", p.sub, name)
		}
		switch {
		case hasVal:
		case f.isBool:
			val = "true"
		case i+1 < len(args):
			i++
			val = args[i]
		default:
			return p, fmt.Errorf("%s: --%s wants a value", p.sub, name)
		}
		if _, dup := p.vals[name]; dup {
			return p, fmt.Errorf("%s: --%s given twice", p.sub, name)
		}
		p.names = append(p.names, name)
		p.vals[name] = val
	}
	return p, nil
}

// args renders p back into a command line, with the values of set
// replacing (or adding to) p's and the flags in drop left out.
func (p parsedArgs) args(set map[string]string, drop ...string) []string {
	out := []string{p.sub}
	seen := map[string]bool{}
	for _, n := range p.names {
		seen[n] = true
		if v, ok := set[n]; ok {
			out = append(out, "--"+n+"="+v)
		} else if !slices.Contains(drop, n) {
			out = append(out, "--"+n+"="+p.vals[n])
		}
	}
	for n, v := range set {
		if !seen[n] {
			out = append(out, "--"+n+"="+v)
		}
	}
	return out
}

// envFlag maps an environment variable of `callstream run` to its flag:
// CALLSTREAM_APP_KEY_FILE is app-key-file.
func envFlag(env string) (string, bool) {
	rest, ok := strings.CutPrefix(env, "CALLSTREAM_")
	if !ok {
		return "", false
	}
	return strings.ToLower(strings.ReplaceAll(rest, "_", "-")), true
}

// runCallstream runs the binary to completion and returns its exit status
// and output.
func runCallstream(ctx context.Context, t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, callstream(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running callstream %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}
