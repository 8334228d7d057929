// Package check compares what callstream produced with what the simulator
// says happened. End-to-end, crash and reliability tests use it: FetchTruth
// asks the simulator for every call and its current status, ReadOutput
// reads the output topics read_committed, and Compare checks the output
// contract (exactly once, order per call, topics, keys, dead letters).
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callstream/callstream/connector/source"
)

// FetchTruth returns every call the simulator at simURL has created so
// far, with its current status: GET {simURL}/_sim/records, which answers
// {"records":[…]} in the vendor's record format.
func FetchTruth(ctx context.Context, simURL string) ([]source.Record, error) {
	url := strings.TrimSuffix(simURL, "/") + "/_sim/records"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching truth: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching truth: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching truth: %s answered %s", url, resp.Status)
	}
	var body struct {
		Records *[]source.Record `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding truth: %w", err)
	}
	if body.Records == nil {
		return nil, errors.New("decoding truth: no records array")
	}
	return *body.Records, nil
}
