package doctor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/calllist"
)

// recipeWorkers is how many recipes are tried at once, and recipeBudget
// how long the search may take in all: a vendor answers in tens of
// milliseconds, so the ~160 recipes take a few seconds.
const (
	recipeWorkers = 4
	recipeBudget  = 15 * time.Second
)

// commonRecipes are the sign recipes api.auth tries when the configured one
// is refused: each digest over every order of appId, timestamp and appKey,
// with and without the body after them, in both hex cases and both
// timestamp units; the default order first. Separators are not guessed.
func commonRecipes() []calllist.Signer {
	base := []string{calllist.FieldAppID, calllist.FieldTimestamp, calllist.FieldAppKey}
	orders := permutations(base)
	for _, o := range permutations(base) {
		orders = append(orders, append(slices.Clone(o), calllist.FieldBody))
	}
	seen := map[string]bool{}
	var out []calllist.Signer
	for _, fields := range orders {
		for _, digest := range []string{calllist.DigestMD5, calllist.DigestSHA256, calllist.DigestSHA1, calllist.DigestHMACSHA256} {
			fs := fields
			if digest == calllist.DigestHMACSHA256 {
				// The key is the HMAC's key, not part of the message: orders
				// that differ only in where appKey stands sign alike.
				fs = slices.DeleteFunc(slices.Clone(fields), func(f string) bool { return f == calllist.FieldAppKey })
			}
			for _, upper := range []bool{false, true} {
				for _, seconds := range []bool{false, true} {
					s := calllist.Signer{Digest: digest, Fields: fs, Upper: upper, Seconds: seconds}
					if k := s.String(); !seen[k] {
						seen[k] = true
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// permutations returns every order of xs, xs itself first.
func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{slices.Clone(xs)}
	}
	var out [][]string
	for i, x := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{x}, p...))
		}
	}
	return out
}

// findRecipe tries the common recipes but skip, a few at a time, and
// returns the first the server accepts with its answer, and how many were
// tried.
func (p *apiProbe) findRecipe(ctx context.Context, skip string) (calllist.Signer, answer, int, bool) {
	ctx, cancel := context.WithTimeout(ctx, recipeBudget)
	defer cancel()
	var (
		mu    sync.Mutex
		tried int
		found *calllist.Signer
		ans   answer
		wg    sync.WaitGroup
		jobs  = make(chan calllist.Signer)
	)
	for range recipeWorkers {
		wg.Go(func() {
			for s := range jobs {
				a, err := p.send(ctx, s, p.cfg.Type, p.cfg.PageSize)
				mu.Lock()
				if ctx.Err() == nil || err == nil {
					tried++
				}
				if err == nil && a.accepted() && found == nil {
					found, ans = &s, a
					cancel()
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, s := range commonRecipes() {
		if s.String() == skip {
			continue
		}
		select {
		case jobs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if found == nil {
		return calllist.Signer{}, answer{}, tried, false
	}
	return *found, ans, tried, true
}

// auth checks the configured recipe. When the server refuses it, the
// common recipes are tried and the one it accepts is named; the checks
// after this one then use that recipe. page is nil when no recipe works.
func (p *apiProbe) auth(ctx context.Context, first answer) (Result, calllist.Signer, *calllist.Page) {
	configured := p.cfg.Signer
	spec := configured.String()
	if first.accepted() {
		return pass(APIAuth, "the server accepts --sign "+spec), configured, first.page
	}
	if p.offset.Abs() >= time.Second {
		// Refused, perhaps for a timestamp on our clock: try once on the
		// server's, which is what the connector signs with.
		if a, err := p.send(ctx, configured, p.cfg.Type, p.cfg.PageSize); err == nil && a.accepted() {
			return pass(APIAuth, "the server accepts --sign "+spec+" when stamped with its own time (see api.clock)"),
				configured, a.page
		}
	}
	refused := fmt.Sprintf("the server refuses --sign %s (%s)", spec, first.refusal)
	found, a, tried, ok := p.findRecipe(ctx, spec)
	if ok {
		s := found.String()
		return fail(APIAuth, refused+"; it accepts "+s,
			"set --sign "+s+" (or CALLSTREAM_SIGN, or sign: in --config)"), found, a.page
	}
	hint := "check --app-id and --app-key (or --app-key-file): with a wrong key no recipe is accepted; " +
		"if they are right, ask the vendor for the sign recipe and set --sign DIGEST:FIELDS:CASE:UNIT[:SEPARATOR] (see the README)"
	return fail(APIAuth, fmt.Sprintf("%s, and none of the %d common recipes tried", refused, tried), hint), configured, nil
}
