package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callstream/callstream/simulator"
)

// FetchTruth returns every call the simulator at simURL has created so
// far, with its current status: GET {simURL}/_sim/records, which answers
// {"records":[…]} in the vendor's record format.
func FetchTruth(ctx context.Context, simURL string) ([]simulator.Record, error) {
	var body struct {
		Records *[]simulator.Record `json:"records"`
	}
	if err := getJSON(ctx, simURL, "/_sim/records", "truth", &body); err != nil {
		return nil, err
	}
	if body.Records == nil {
		return nil, errors.New("decoding truth: no records array")
	}
	return *body.Records, nil
}

// FetchBroken returns the ids of the calls whose records the simulator at
// simURL has broken (its broken-json fault): GET {simURL}/_sim/broken,
// which answers {"ids":[…]}. They are the wantDLQ of Compare.
func FetchBroken(ctx context.Context, simURL string) (map[int64]bool, error) {
	var body struct {
		IDs *[]int64 `json:"ids"`
	}
	if err := getJSON(ctx, simURL, "/_sim/broken", "broken calls", &body); err != nil {
		return nil, err
	}
	if body.IDs == nil {
		return nil, errors.New("decoding broken calls: no ids array")
	}
	out := make(map[int64]bool, len(*body.IDs))
	for _, id := range *body.IDs {
		out[id] = true
	}
	return out, nil
}

// getJSON decodes the JSON answer of GET {simURL}{path} into v; what names
// the thing fetched in errors.
func getJSON(ctx context.Context, simURL, path, what string, v any) error {
	url := strings.TrimSuffix(simURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", what, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s answered %s", what, url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}

// FetchLarge returns the ids of the calls whose transcripts the simulator
// at simURL has made large (its large-transcript fault): GET
// {simURL}/_sim/large, which answers {"ids":[…]}. With Kafka's default
// limits their events are too large, and a connector dead-letters them as
// too_large.
func FetchLarge(ctx context.Context, simURL string) (map[int64]bool, error) {
	var body struct {
		IDs *[]int64 `json:"ids"`
	}
	if err := getJSON(ctx, simURL, "/_sim/large", "large calls", &body); err != nil {
		return nil, err
	}
	if body.IDs == nil {
		return nil, errors.New("decoding large calls: no ids array")
	}
	out := make(map[int64]bool, len(*body.IDs))
	for _, id := range *body.IDs {
		out[id] = true
	}
	return out, nil
}
