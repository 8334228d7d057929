package source

import (
	"github.com/callstream/callstream/connector/calllist"

	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetchPageRequest(t *testing.T) {
	now := time.Date(2025, 3, 21, 10, 34, 21, 641e6, time.UTC)
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotBody = r, must(io.ReadAll(r.Body))
		fmt.Fprint(w, `{"code":0,"message":"success","data":{"totalCount":0,"totalPage":0,"pageNo":2,"pageSize":3,"result":[],"message":"0秒"}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/", func(c *Config) { c.Clock = func() time.Time { return now } })
	if _, err := c.FetchPage(context.Background(), testWindow(), 2); err != nil {
		t.Fatal(err)
	}
	wantBody := `{"startTime":"2025-03-21 00:00:00","endTime":"2025-03-21 00:59:59","type":"chat","pageNo":2,"pageSize":3}`
	sum := md5.Sum([]byte(testAppID + "1742553261641" + testKey.Reveal()))
	checks := []struct{ what, got, want string }{
		{"method", got.Method, http.MethodPost},
		{"path", got.URL.Path, "/api/v3/app/getCallList"},
		{"body", string(gotBody), wantBody},
		{"appId", got.Header.Get("appId"), testAppID},
		{"appKey", got.Header.Get("appKey"), testKey.Reveal()},
		{"timestamp", got.Header.Get("timestamp"), "1742553261641"},
		{"sign", got.Header.Get("sign"), fmt.Sprintf("%x", sum)},
		{"content type", got.Header.Get("Content-Type"), "application/json"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.what, ck.got, ck.want)
		}
	}
}

func TestFetchPageSample(t *testing.T) {
	body := sample(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Tue, 25 Mar 2025 06:30:00 GMT")
		w.Write(body)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(c *Config) { c.PageSize = 30 })
	p, err := c.FetchPage(context.Background(), testWindow(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount != 8 || p.TotalPage != 1 || p.PageNo != 1 || p.PageSize != 30 || len(p.Records) != 8 {
		t.Errorf("page = %+v", p)
	}
	if !bytes.HasPrefix(p.Records[0].JSON, []byte(`{`)) || !bytes.Contains(p.Records[0].JSON, []byte(`"id": 661181201146016`)) {
		t.Errorf("first record is not the raw element: %.80s", p.Records[0].JSON)
	}
	wantIDs := []int64{661181201146016, 661148725483680, 661147465132192, 660479264807072,
		660475461327008, 660472554074272, 660472472553632, 660472349397152}
	for i, r := range p.Records {
		if r.Err != nil || r.ID != wantIDs[i] {
			t.Errorf("record %d id = %d, %v, want %d", i, r.ID, r.Err, wantIDs[i])
		}
	}
}

// answer is a canned HTTP response.
type answer struct {
	status int
	header map[string]string
	body   string
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(orDefault(a.status, http.StatusOK))
	io.WriteString(w, a.body)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func TestErrorKinds(t *testing.T) {
	now := time.Date(2025, 3, 21, 6, 0, 0, 0, time.UTC)
	ok := `{"code":0,"message":"success","data":{"totalCount":0,"totalPage":0,"pageNo":1,"pageSize":3,"result":[]}}`
	sample := string(sample(t))
	tests := []struct {
		name       string
		ans        answer
		hijack     func(w http.ResponseWriter)
		kind       Kind
		status     int
		code       int
		retryAfter time.Duration
	}{
		{name: "ok", ans: answer{body: ok}},
		{name: "connection closed", hijack: closeConn(""), kind: KindTransport},
		{name: "body cut short", hijack: closeConn("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"code\":0"), kind: KindTransport, status: 200},
		{name: "500", ans: answer{status: 500, body: "oops"}, kind: KindHTTP, status: 500},
		{name: "503 retry-after seconds", ans: answer{status: 503, header: map[string]string{"Retry-After": "7"}}, kind: KindHTTP, status: 503, retryAfter: 7 * time.Second},
		{name: "429 retry-after date", ans: answer{status: 429, header: map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}}, kind: KindHTTP, status: 429, retryAfter: 30 * time.Second},
		{name: "429 retry-after past date", ans: answer{status: 429, header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}}, kind: KindHTTP, status: 429},
		{name: "404", ans: answer{status: 404}, kind: KindHTTP, status: 404},
		{name: "401", ans: answer{status: 401}, kind: KindAuth, status: 401},
		{name: "403", ans: answer{status: 403}, kind: KindAuth, status: 403},
		{name: "code 401", ans: answer{body: `{"code":401,"message":"sign invalid","data":null}`}, kind: KindAuth, code: 401},
		{name: "code 500", ans: answer{body: `{"code":500,"message":"系统繁忙","data":null}`}, kind: KindBusiness, code: 500},
		{name: "malformed", ans: answer{body: `{"code":0,"data":{"totalCount":x}}`}, kind: KindDecode},
		{name: "truncated", ans: answer{body: sample[:len(sample)/2]}, kind: KindDecode},
		{name: "html", ans: answer{body: `<html>gateway</html>`}, kind: KindDecode},
		{name: "no code", ans: answer{body: `{"data":{}}`}, kind: KindDecode},
		{name: "no data", ans: answer{body: `{"code":0,"message":"success","data":null}`}, kind: KindDecode},
		{name: "wrong page", ans: answer{body: strings.Replace(ok, `"pageNo":1`, `"pageNo":4`, 1)}, kind: KindDecode},
		{name: "negative count", ans: answer{body: strings.Replace(ok, `"totalCount":0`, `"totalCount":-1`, 1)}, kind: KindDecode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.hijack != nil {
					tc.hijack(w)
					return
				}
				tc.ans.write(w)
			}))
			defer srv.Close()
			var outcomes []string
			var kinds []Kind
			c := newTestClient(t, srv.URL, func(c *Config) {
				c.Clock = func() time.Time { return now }
				c.Hooks = Hooks{
					Request: func(_ context.Context, o string, _ time.Duration) { outcomes = append(outcomes, o) },
					Error:   func(k Kind, _ error) { kinds = append(kinds, k) },
				}
			})
			_, err := c.FetchPage(context.Background(), testWindow(), 1)
			if tc.kind == "" {
				if err != nil || len(outcomes) != 1 || outcomes[0] != "ok" || len(kinds) != 0 {
					t.Fatalf("err %v, outcomes %v, kinds %v; want success", err, outcomes, kinds)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if ae.Kind != tc.kind || ae.Status != tc.status || ae.Code != tc.code || ae.RetryAfter != tc.retryAfter {
				t.Errorf("got kind %s status %d code %d retry after %s; want %s %d %d %s (%v)",
					ae.Kind, ae.Status, ae.Code, ae.RetryAfter, tc.kind, tc.status, tc.code, tc.retryAfter, err)
			}
			if len(outcomes) != 1 || outcomes[0] != string(tc.kind) || len(kinds) != 1 || kinds[0] != tc.kind {
				t.Errorf("hooks saw outcomes %v, kinds %v; want one %s", outcomes, kinds, tc.kind)
			}
			if want := "fetching page 1 of 2025-03-21 00:00:00..2025-03-21 00:59:59: "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

// closeConn writes raw bytes on the connection and closes it.
func closeConn(raw string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		buf.WriteString(raw)
		buf.Flush()
		conn.Close()
	}
}

func TestTimeoutIsTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hang))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(c *Config) { c.Timeout = 20 * time.Millisecond })
	_, err := c.FetchPage(context.Background(), testWindow(), 1)
	if KindOf(err) != KindTransport {
		t.Errorf("err = %v, want a transport error", err)
	}
}

func TestCancelledIsNotCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hang))
	defer srv.Close()
	counted := 0
	c := newTestClient(t, srv.URL, func(c *Config) {
		c.Hooks.Request = func(context.Context, string, time.Duration) { counted++ }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.FetchPage(ctx, testWindow(), 1)
	if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != "" || counted != 0 {
		t.Errorf("err = %v (kind %q), counted %d; want the context's error, uncounted", err, KindOf(err), counted)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	// Each answer echoes the request's headers back, as a careless gateway
	// might; no error text may carry the key or the sign.
	echo := func(r *http.Request) string {
		return fmt.Sprintf("appKey=%s sign=%s headers=%v", r.Header.Get("appKey"), r.Header.Get("sign"), r.Header)
	}
	var signs []string
	answers := []func(w http.ResponseWriter, r *http.Request){
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500); io.WriteString(w, echo(r)) },
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401); io.WriteString(w, echo(r)) },
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429); io.WriteString(w, echo(r)) },
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"code":401,"message":%q,"data":null}`, echo(r))
		},
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"code":1001,"message":%q,"data":null}`, strings.Repeat("x", 190)+r.Header.Get("sign"))
		},
		func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"code":0,"data":`+echo(r)) },
	}
	for i, answer := range answers {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			signs = append(signs, r.Header.Get("sign"))
			answer(w, r)
		}))
		c := newTestClient(t, srv.URL, nil)
		_, err := c.FetchPage(context.Background(), testWindow(), 1)
		srv.Close()
		if err == nil {
			t.Fatalf("answer %d: no error", i)
		}
		sign := signs[len(signs)-1]
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, testKey.Reveal()) || strings.Contains(text, sign) || strings.Contains(text, sign[:16]) {
				t.Errorf("answer %d: error leaks a secret: %s", i, text)
			}
		}
	}
}

func TestNewClientValidates(t *testing.T) {
	good := Config{BaseURL: "https://api.example.com", AppID: "a", AppKey: "k"}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.BaseURL = "" }, "base URL"},
		{"relative url", func(c *Config) { c.BaseURL = "/x" }, "base URL"},
		{"query", func(c *Config) { c.BaseURL = "https://h/?token=1" }, "query"},
		{"no app id", func(c *Config) { c.AppID = "" }, "app id"},
		{"no app key", func(c *Config) { c.AppKey = "" }, "app key"},
		{"page size", func(c *Config) { c.PageSize = 1001 }, "page size"},
		{"signer", func(c *Config) { c.Signer = calllist.Signer{Digest: "crc32"} }, "digest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mod(&cfg)
			_, err := NewClient(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewClient = %v, want an error about %s", err, tc.want)
			}
		})
	}
	if _, err := NewClient(good); err != nil {
		t.Errorf("NewClient(good) = %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// hang answers nothing until the client goes away. It reads the body first:
// only then does the server notice a closed connection.
func hang(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}
