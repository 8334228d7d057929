package simulator

import "net/http"

// Faults is where fault injection plugs in. Serve is called for every
// getCallList request that passed the sign and body checks, in place of the
// simulator's answer; next writes the true answer. A fault can answer on its
// own (an HTTP 500, a 429 with Retry-After, a business error with code != 0),
// call next with a wrapped ResponseWriter (to truncate or corrupt the body),
// delay, or just call next. It must be safe for concurrent use.
//
// Faults that change the data rather than one answer (calls inserted into
// an old window while it is paged, a skewed clock) belong in the timeline
// and in Config.Clock rather than here.
type Faults interface {
	Serve(w http.ResponseWriter, r *http.Request, req Request, next http.Handler)
}

// Request is a getCallList request body as the simulator understood it.
// StartTime and EndTime are zero when the request gave none; PageSize is
// the one answered, at most Config.MaxPageSize.
type Request struct {
	StartTime, EndTime string // as sent, yyyy-MM-dd HH:mm:ss in CST
	Type               string
	PageNo, PageSize   int
}
