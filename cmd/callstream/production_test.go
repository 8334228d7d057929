package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/syncbuf"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/testpki"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// The secrets of the production example, as the test writes them into the
// files that testdata/production.yaml names.
const (
	prodAppKey           = secret.String("prod-app-key-never-logged")
	prodKafkaPassword    = secret.String("kafka-pw-never-logged")
	prodRegistryPassword = secret.String("registry-pw-never-logged")
	prodUser             = "callstream" // sasl-username and schema-registry-username in the example
)

// prodSetup is testdata/production.yaml made real: its /etc/callstream
// paths moved into a temporary directory holding a test PKI and the
// secrets.
type prodSetup struct {
	config string // the rewritten YAML file
	pki    *testpki.PKI
}

func newProdSetup(t *testing.T) *prodSetup {
	t.Helper()
	src, err := os.ReadFile("testdata/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	pki := testpki.New(t)
	files := map[string]string{
		"secrets/app-key":           prodAppKey.Reveal() + "\n",
		"secrets/kafka-password":    prodKafkaPassword.Reveal() + "\n",
		"secrets/registry-password": prodRegistryPassword.Reveal() + "\n",
		"tls/ca.pem":                readFile(t, pki.CAFile),
		"tls/client.pem":            readFile(t, pki.ClientCertFile),
		"tls/client-key.pem":        readFile(t, pki.ClientKeyFile),
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(root, "callstream.yaml")
	yaml := strings.ReplaceAll(string(src), "/etc/callstream/", root+"/")
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &prodSetup{config: config, pki: pki}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProductionConfigChecks(t *testing.T) {
	p := newProdSetup(t)
	var out, errOut strings.Builder
	if code := cmdRun(context.Background(), []string{"--config", p.config, "--check-config"}, &out, &errOut); code != 0 {
		t.Fatalf("--check-config: exit %d, stderr %q", code, errOut.String())
	}
}

// secureWorld is a Kafka that demands SCRAM-SHA-512 over mutual TLS and a
// Schema Registry that demands basic auth over TLS, both trusting the
// production setup's PKI, and a simulator of the vendor API.
type secureWorld struct {
	brokers     []string
	registryURL string
	simURL      string
	registry    *srfake.Registry
}

func newSecureWorld(t *testing.T, p *prodSetup, history int) *secureWorld {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3),
		kfake.EnableSASL(), kfake.Superuser(security.ScramSHA512, prodUser, prodKafkaPassword.Reveal()),
		kfake.TLS(p.pki.ServerConfig(t, true)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	basic := base64.StdEncoding.EncodeToString([]byte(prodUser + ":" + prodRegistryPassword.Reveal()))
	reg := srfake.NewRegistry(srfake.WithAuth("Basic " + basic))
	srv := httptest.NewUnstartedServer(reg.Handler())
	srv.TLS = p.pki.ServerConfig(t, false)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sim, err := simulator.New(simulator.Config{
		AppID: "prod-app", AppKey: prodAppKey, Seed: 9, History: history, HistorySpan: time.Hour,
		ConvertAfter: time.Second, FailRatio: 0.3, Types: []string{source.DefaultType},
	})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	return &secureWorld{brokers: cluster.ListenAddrs(), registryURL: srv.URL, simURL: api.URL, registry: reg}
}

// args runs the production config against this world: flags override the
// file's addresses, as a deployment would through the environment.
func (w *secureWorld) args(p *prodSetup, extra ...string) []string {
	return append([]string{
		"--config", p.config, "--api-url", w.simURL, "--app-id", "prod-app",
		"--brokers", strings.Join(w.brokers, ","), "--schema-registry-url", w.registryURL,
		"--replication-factor", "-1", "--listen", "127.0.0.1:0", "--log-format", "json",
		"--poll-interval", "200ms", "--settle-delay", "1s", "--tiers", "recent=1m@0s,deep=2h@2s",
		"--start-from", "2h", "--backfill-window", "20m",
	}, extra...)
}

// readerOpts are the Kafka options a reader of the secured cluster needs.
func (p *prodSetup) readerOpts(t *testing.T, brokers []string) []kgo.Opt {
	t.Helper()
	opts, err := security.Kafka{
		TLS:  security.TLS{CAFile: p.pki.CAFile, CertFile: p.pki.ClientCertFile, KeyFile: p.pki.ClientKeyFile},
		SASL: security.SASL{Mechanism: security.ScramSHA512, Username: prodUser, Password: prodKafkaPassword},
	}.Opts()
	if err != nil {
		t.Fatal(err)
	}
	return append(opts, kgo.SeedBrokers(brokers...))
}

// The production example against a secured Kafka and Schema Registry:
// the output matches the truth read through the registry, a Confluent
// reader (registry lookup by id, goavro) decodes every value, and tail
// prints them decoded.
func TestProductionConfigEndToEnd(t *testing.T) {
	p := newProdSetup(t)
	w := newSecureWorld(t, p, 60)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- cmdRun(ctx, w.args(p), io.Discard, &logs) }()

	rc, err := registry.New(registry.Config{URL: w.registryURL, Username: prodUser, Password: prodRegistryPassword,
		TLS: security.TLS{CAFile: p.pki.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	opts := p.readerOpts(t, w.brokers)
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	out, err := awaitSecureTruth(wctx, w.simURL, opts, event.NewDecoder(rc.Lookup(wctx)), 60)
	if err != nil {
		cancel()
		<-done
		t.Fatalf("%v\nlogs (tail):\n%s", err, lastLines(logs.String(), 30))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exit %d after cancel, want 0", code)
	}
	if len(out.Events) == 0 {
		t.Fatal("no events")
	}
	if n := confluentDecode(t, p, w, opts, len(out.Events)+len(out.DeadLetters)); n != len(out.Events)+len(out.DeadLetters) {
		t.Errorf("Confluent reader decoded %d values, want %d", n, len(out.Events)+len(out.DeadLetters))
	}
	tailArgs := []string{"--brokers", strings.Join(w.brokers, ","), "--from-beginning", "--exit-at-end",
		"--tls-ca-file", p.pki.CAFile, "--tls-cert-file", p.pki.ClientCertFile, "--tls-key-file", p.pki.ClientKeyFile,
		"--sasl-mechanism", security.ScramSHA512, "--sasl-username", prodUser,
		"--sasl-password-file", filepath.Join(filepath.Dir(p.config), "secrets/kafka-password"),
		"--schema-registry-url", w.registryURL, "--schema-registry-username", prodUser,
		"--schema-registry-password-file", filepath.Join(filepath.Dir(p.config), "secrets/registry-password"),
		"--schema-registry-ca-file", p.pki.CAFile}
	tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer tcancel()
	code, lines, errOut := runTail(t, tctx, tailArgs...)
	if code != 0 || strings.Contains(lines, `"error"`) {
		t.Fatalf("tail: exit %d, stderr %q, output (head) %.500s", code, errOut, lines)
	}
	if n := strings.Count(lines, "\n"); n != len(out.Events)+len(out.DeadLetters) {
		t.Errorf("tail printed %d lines, want %d", n, len(out.Events)+len(out.DeadLetters))
	}
	for _, s := range []secret.String{prodAppKey, prodKafkaPassword, prodRegistryPassword} {
		if strings.Contains(logs.String(), s.Reveal()) {
			t.Errorf("a secret appears in the logs")
		}
	}
}

// awaitSecureTruth polls until the output, read with opts and dec,
// matches the simulator's truth of calls that have all settled.
func awaitSecureTruth(ctx context.Context, simURL string, opts []kgo.Opt, dec *event.Decoder, calls int) (*check.Output, error) {
	_, out, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: opts, Decoder: dec},
		check.Want{Calls: calls, Settled: true, Clean: true}, 300*time.Millisecond)
	return out, err
}

// confluentDecode reads every output value as a Confluent deserializer
// does, without our decoder: magic byte 0, the big-endian schema id, the
// schema fetched by id from the registry's REST API, the datum decoded by
// goavro. It reads until want values decoded, and returns how many did.
func confluentDecode(t *testing.T, p *prodSetup, w *secureWorld, opts []kgo.Opt, want int) int {
	t.Helper()
	tc, err := security.TLS{CAFile: p.pki.CAFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
	codecs := map[uint32]*goavro.Codec{}
	codec := func(id uint32) *goavro.Codec {
		if c, ok := codecs[id]; ok {
			return c
		}
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/schemas/ids/%d", w.registryURL, id), nil)
		req.SetBasicAuth(prodUser, prodRegistryPassword.Reveal())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET schema %d: status %d, %v", id, resp.StatusCode, err)
		}
		c, err := goavro.NewCodec(body.Schema)
		if err != nil {
			t.Fatalf("schema %d: %v", id, err)
		}
		codecs[id] = c
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("calls", "calls.failed", "calls.dlq"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	for n != want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return n
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Value) < 5 || r.Value[0] != 0 {
				t.Fatalf("%s@%d: not registry framed: % x", r.Topic, r.Offset, r.Value[:min(len(r.Value), 8)])
			}
			native, rest, err := codec(binary.BigEndian.Uint32(r.Value[1:5])).NativeFromBinary(r.Value[5:])
			if err != nil || len(rest) != 0 {
				t.Fatalf("%s@%d: goavro: %v (%d bytes left)", r.Topic, r.Offset, err, len(rest))
			}
			if _, ok := native.(map[string]any); !ok {
				t.Fatalf("%s@%d: decoded %T", r.Topic, r.Offset, native)
			}
			n++
		})
	}
	return n
}

// The README shows the production config that these tests run.
func TestReadmeShowsProductionConfig(t *testing.T) {
	readme := readFile(t, "../../README.md")
	_, after, ok := strings.Cut(readme, "## Production Kafka")
	if !ok {
		t.Fatal("README has no production section")
	}
	_, block, _ := strings.Cut(after, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	var want []string
	for _, line := range strings.Split(readFile(t, "testdata/production.yaml"), "\n") {
		if !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	if strings.TrimSpace(block) != strings.TrimSpace(strings.Join(want, "\n")) {
		t.Errorf("README's production config differs from testdata/production.yaml:\n%s", block)
	}
}
