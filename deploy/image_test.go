package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// imageRepo and imageTag name the image that TestImage builds; it is kept,
// so that a second run reuses the build cache.
const (
	imageRepo = "callstream"
	imageTag  = "deploy-test"
)

// dockerReachable reports why no Docker daemon can be used, or nil.
func dockerReachable(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	p, err := testcontainers.ProviderDocker.GetProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Health(ctx)
}

// TestImage builds the image from the Dockerfile and runs the compose
// stack's Kafka, Schema Registry, simulator and connector as the compose file
// describes them (images, environment, commands, secrets as files, health
// checks as the wait), then reads the connector's output from real Kafka.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: TestImage builds the image and pulls Apache Kafka")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := dockerReachable(ctx); err != nil {
		t.Skipf("no Docker daemon reachable, so the image is not built or run here (%v); it runs wherever one is", err)
	}
	proj := loadCompose(t)
	nw, err := network.New(ctx)
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatalf("creating a network: %v", err)
	}
	for _, name := range []string{"kafka", "schema-registry", "simulator"} {
		startService(ctx, t, proj, name, nw)
	}
	conn := startService(ctx, t, proj, "connector", nw)

	out := execOK(ctx, t, conn, "/callstream", "version")
	if !strings.Contains(out, testVersion) || !strings.Contains(out, testCommit) {
		t.Errorf("callstream version in the image: %q, want %s and %s", out, testVersion, testCommit)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out := execOK(ctx, t, conn, "/callstream", "tail", "--brokers", composeArgs(t, "connector").vals["brokers"],
			"--from-beginning", "--exit-at-end")
		if strings.Contains(out, `"topic":"calls"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event on the calls topic within 2 min; tail printed:\n%s", out)
		}
		time.Sleep(5 * time.Second)
	}
}

// startService runs one compose service in a container on nw, under its
// service name, and waits until its compose health check passes. The
// callstream services run the image built from the Dockerfile.
func startService(ctx context.Context, t *testing.T, proj *types.Project, name string, nw *testcontainers.DockerNetwork) *testcontainers.DockerContainer {
	t.Helper()
	s := proj.Services[name]
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	img := s.Image
	opts := []testcontainers.ContainerCustomizer{
		network.WithNetwork([]string{name}, nw),
		testcontainers.WithEnv(env),
		testcontainers.WithWaitStrategyAndDeadline(5*time.Minute,
			wait.ForExec(s.HealthCheck.Test[1:]).WithPollInterval(2*time.Second)),
	}
	if len(s.Command) > 0 {
		opts = append(opts, testcontainers.WithCmd(s.Command...))
	}
	for _, sec := range s.Secrets {
		opts = append(opts, testcontainers.WithFiles(testcontainers.ContainerFile{
			HostFilePath: proj.Secrets[sec.Source].File, ContainerFilePath: "/run/secrets/" + sec.Source, FileMode: 0o444,
		}))
	}
	if s.Build != nil {
		img = ""
		version, commit := testVersion, testCommit
		opts = append(opts, testcontainers.WithDockerfile(testcontainers.FromDockerfile{
			Context: s.Build.Context, Dockerfile: s.Build.Dockerfile, Repo: imageRepo, Tag: imageTag, KeepImage: true,
			BuildArgs: map[string]*string{"VERSION": &version, "COMMIT": &commit},
		}))
	}
	c, err := testcontainers.Run(ctx, img, opts...)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatalf("starting %s: %v%s", name, err, logsOf(ctx, c))
	}
	return c
}

// execOK runs cmd in c and returns its output; it must exit 0.
func execOK(ctx context.Context, t *testing.T, c *testcontainers.DockerContainer, cmd ...string) string {
	t.Helper()
	code, r, err := c.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		t.Fatalf("exec %q: %v", cmd, err)
	}
	b, _ := io.ReadAll(r)
	if code != 0 {
		t.Fatalf("exec %q: exit %d: %s", cmd, code, b)
	}
	return string(b)
}

func logsOf(ctx context.Context, c *testcontainers.DockerContainer) string {
	if c == nil {
		return ""
	}
	r, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	return "\n" + string(b)
}
