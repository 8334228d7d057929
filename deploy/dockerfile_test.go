package deploy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// dockerfile is the Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(strings.TrimSpace(s) + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	lines := dockerfile(t)
	want := []struct {
		what string
		re   string
	}{
		{"a Go 1.26 builder stage", `^FROM (--platform=\S+ )?golang:\$\{GO_VERSION\} AS build$`},
		{"GO_VERSION 1.26", `^ARG GO_VERSION=1\.26$`},
		{"a static, trimmed, stamped build", `^RUN .*CGO_ENABLED=0 .*go build -trimpath -ldflags "-s -w -X main\.version=\$\{VERSION\} -X main\.commit=\$\{COMMIT\}" .*\./cmd/callstream$`},
		{"the distroless static nonroot runtime", `^FROM gcr\.io/distroless/static-debian12:nonroot$`},
		{"the nonroot user", `^USER 65532:65532$`},
		{"the binary as entrypoint", `^ENTRYPOINT \["/callstream"\]$`},
	}
	for _, w := range want {
		re := regexp.MustCompile(w.re)
		found := false
		for _, l := range lines {
			found = found || re.MatchString(l)
		}
		if !found {
			t.Errorf("the Dockerfile has no line for %s (/%s/)", w.what, w.re)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "CMD ") {
		t.Errorf("the Dockerfile ends with %q, want the default CMD", last)
	}
}

// TestVersionStamp: the Dockerfile's -ldflags reach `callstream version`.
func TestVersionStamp(t *testing.T) {
	code, stdout, stderr := runCallstream(context.Background(), t, "version")
	if code != 0 || !strings.Contains(stdout, testVersion) || !strings.Contains(stdout, testCommit) {
		t.Errorf("callstream version: exit %d, %q %q; want %s and %s", code, stdout, stderr, testVersion, testCommit)
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	// The build reads the module files, the sources of the binary and the
	// embedded schemas; the rest stays out of the context.
	for _, tc := range []struct {
		path string
		sent bool
	}{
		{"go.mod", true}, {"go.sum", true}, {"cmd/callstream/main.go", true},
		{"connector/connector.go", true}, {"schemas/call_event.avsc", true},
		{".git/HEAD", false}, {"cmd/callstream/main_test.go", false},
		{"deploy/compose/secrets/app-key.txt", false}, {"deploy/kubernetes/overlays/example/secrets/app-key", false},
	} {
		ignored, err := pm.MatchesOrParentMatches(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if ignored == tc.sent {
			t.Errorf(".dockerignore: %s sent to the build: %v, want %v", tc.path, !ignored, tc.sent)
		}
	}
}
