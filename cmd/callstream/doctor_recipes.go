package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// checkDecode decodes every record of page as the connector would: how
// many decode, the dead letters by reason, the keys it does not know by
// name. It fails only when no record decodes: dead letters go to their
// topic and unknown keys travel in extra, by design.
func checkDecode(page *calllist.Page, typ string) checkResult {
	var (
		decoded int
		reasons = map[string]int{}
		unknown = map[string]int{}
	)
	for _, raw := range page.Records {
		err := raw.Err
		if err == nil {
			var rec calllist.Record
			rec, err = calllist.DecodeCall(raw.JSON)
			for _, k := range rec.Unknown {
				unknown[k]++
			}
		}
		var de *calllist.DecodeError
		switch {
		case err == nil:
			decoded++
		case errors.As(err, &de):
			reasons[de.Reason]++
		default:
			reasons["other"]++
		}
	}
	n := len(page.Records)
	detail := fmt.Sprintf("page 1 of type %s: %d records, %d decode", typ, n, decoded)
	if len(reasons) > 0 {
		detail += ", dead letters " + countList(reasons)
	}
	if len(unknown) > 0 {
		detail += ", unknown keys (kept in extra) " + countList(unknown)
	}
	if n > 0 && decoded == 0 {
		return fail(checkAPIDecode, detail,
			"no record is in the format callstream reads: send the reasons above and one record, its values masked, to the maintainers of callstream")
	}
	return pass(checkAPIDecode, detail)
}

// countList writes counts as "a 3, b 1", by name.
func countList(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
