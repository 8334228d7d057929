package simulator

import (
	"context"
	"fmt"
	"net"
	"net/http"
)

// Apps is several simulated apps behind one address, as one vendor serves
// many customers: each app has its own id, key, seed and calls. A request
// to the API goes to the app its appId header names; GET /_sim/records,
// /_sim/broken and /_sim/faults take ?app-id=ID and answer for that app
// alone (with a single app, app-id may be left out).
type Apps struct {
	byID  map[string]*Simulator
	first *Simulator
}

// NewApps builds a simulator for each config; app ids must differ.
func NewApps(cfgs []Config) (*Apps, error) {
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("simulator: no app")
	}
	a := &Apps{byID: make(map[string]*Simulator, len(cfgs))}
	for i, c := range cfgs {
		if _, dup := a.byID[c.AppID]; dup {
			return nil, fmt.Errorf("simulator: app %d: app id %q given twice", i, c.AppID)
		}
		s, err := New(c)
		if err != nil {
			return nil, fmt.Errorf("simulator: app %d (%s): %w", i, c.AppID, err)
		}
		a.byID[c.AppID] = s
		if a.first == nil {
			a.first = s
		}
	}
	return a, nil
}

// App returns the simulator of one app id, nil if there is none.
func (a *Apps) App(id string) *Simulator { return a.byID[id] }

// Handler routes each request to its app's Handler.
func (a *Apps) Handler() http.Handler {
	handlers := make(map[*Simulator]http.Handler, len(a.byID))
	for _, s := range a.byID {
		handlers[s] = s.Handler()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+callListPath, func(w http.ResponseWriter, r *http.Request) {
		s := a.byID[r.Header.Get("appId")]
		if s == nil {
			// An unknown app id is refused as the vendor refuses it: by
			// the sign check of an app it does not match.
			s = a.first
		}
		handlers[s].ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /_sim/", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("app-id")
		s := a.byID[id]
		if id == "" && len(a.byID) == 1 {
			s = a.first
		}
		if s == nil {
			http.Error(w, fmt.Sprintf("app-id %q: want one of the simulated apps", id), http.StatusNotFound)
			return
		}
		handlers[s].ServeHTTP(w, r)
	})
	return mux
}

// Serve serves Handler on ln until ctx is done; see Simulator.Serve.
func (a *Apps) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, a.Handler())
}
