package deploy

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// localSecrets maps every flag value under /run/secrets/NAME to the file of
// the compose secret NAME, where the binary can read it here.
func localSecrets(t *testing.T, proj *types.Project, a parsedArgs) map[string]string {
	t.Helper()
	set := map[string]string{}
	for name, v := range a.vals {
		if sec, ok := strings.CutPrefix(v, "/run/secrets/"); ok {
			s, ok := proj.Secrets[sec]
			if !ok {
				t.Fatalf("--%s names secret %q, which docker-compose.yml does not define", name, sec)
			}
			set[name] = s.File
		}
	}
	return set
}

// localHealthURL is a service's compose health check URL, pointed at addr.
func localHealthURL(t *testing.T, proj *types.Project, service, addr string) string {
	t.Helper()
	hc, err := parseArgs(t, proj.Services[service].HealthCheck.Test[2:])
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(hc.vals["url"])
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// TestComposeCommands runs the compose file's callstream commands with the
// binary built from this tree: the connector's settings pass --check-config
// as written, then the simulator and the connector run against a local
// broker (callstream broker) with only addresses and secret paths changed,
// and each passes its own compose health check. The running connector then
// exports every metric the dashboard and the alert rules query.
func TestComposeCommands(t *testing.T) {
	proj := loadCompose(t)
	ctx := context.Background()
	conn := composeArgs(t, "connector")
	connSecrets := localSecrets(t, proj, conn)
	check := conn.args(merge(connSecrets, map[string]string{"check-config": "true"}))
	if code, stdout, stderr := runCallstream(ctx, t, check...); code != 0 {
		t.Fatalf("callstream %q: exit %d: %s%s", check, code, stdout, stderr)
	}

	_, b := startProc(t, "broker listening", "broker", "--listen=127.0.0.1:0", "--log-format=json")
	addrs, _ := b["addrs"].([]any)
	if len(addrs) == 0 {
		t.Fatalf("broker logged no address: %v", b)
	}
	broker := fmt.Sprint(addrs[0])

	sim := composeArgs(t, "simulator")
	_, s := startProc(t, "simulator listening",
		sim.args(merge(localSecrets(t, proj, sim), map[string]string{"listen": "127.0.0.1:0"}))...)
	simAddr := fmt.Sprint(s["addr"])
	if err := healthy(ctx, t, localHealthURL(t, proj, "simulator", simAddr), 10*time.Second); err != nil {
		t.Fatalf("the simulator's compose health check: %v", err)
	}

	// The Schema Registry is not run here; the registry framing has tests of
	// its own against a fake registry.
	live := conn.args(merge(connSecrets, map[string]string{
		"api-url": "http://" + simAddr, "brokers": broker, "listen": "127.0.0.1:0",
	}), "schema-registry-url")
	_, c := startProc(t, "serving metrics and health", live...)
	connAddr := fmt.Sprint(c["addr"])
	if err := healthy(ctx, t, localHealthURL(t, proj, "connector", connAddr), 30*time.Second); err != nil {
		t.Fatalf("the connector's compose health check: %v", err)
	}
	checkQueriedMetricsExported(ctx, t, "http://"+connAddr+"/metrics")
}

// merge returns a copy of a with b's entries added over it.
func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
