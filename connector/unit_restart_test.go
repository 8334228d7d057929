package connector

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// A unit whose commit fails with an error a new producer mends (the
// coordinator answered UNKNOWN_SERVER_ERROR: the outcome is unconfirmed,
// class kafka) starts again with backoff, in the same pod: the pod stays a
// member, its other units go on, and the output holds the truth exactly
// once. Before, any non-fence error of one unit ended the whole pod.
func TestGroupUnitRestartsAfterAFailedCommit(t *testing.T) {
	restartAfterFailedCommit(t, 13, kerr.UnknownServerError)
}
