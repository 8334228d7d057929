package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// FetchBroken returns the ids of the calls whose records the simulator at
// simURL has broken (its broken-json fault): GET {simURL}/_sim/broken,
// which answers {"ids":[…]}. They are the wantDLQ of Compare.
func FetchBroken(ctx context.Context, simURL string) (map[int64]bool, error) {
	url := strings.TrimSuffix(simURL, "/") + "/_sim/broken"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching broken calls: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching broken calls: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching broken calls: %s answered %s", url, resp.Status)
	}
	var body struct {
		IDs *[]int64 `json:"ids"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding broken calls: %w", err)
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
