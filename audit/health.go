package audit

import (
	"fmt"
	"sync"
)

// GiveUpAfter is how many consecutive requests to one instance may fail
// without a response (connection failures or timeouts, counted across its
// parallel workers) before the rest of its probes are not run: one dead
// instance costs about GiveUpAfter timeouts, whatever the number of probes.
const GiveUpAfter = 2

// instanceHealth counts an instance's consecutive failed requests and gives
// the instance up after GiveUpAfter. A nil *instanceHealth never gives up
// (load balancer samples).
type instanceHealth struct {
	mu       sync.Mutex
	fails    int // consecutive requests without a response
	timeouts int // how many of them timed out
	givenUp  string
}

// admit returns "" when a request may be sent, else why not (NotRun).
func (h *instanceHealth) admit() string {
	if h == nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.givenUp
}

// record counts ex: any response (whatever its status) resets the count.
func (h *instanceHealth) record(ex *Exchange) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ex.Failed() {
		h.fails, h.timeouts = 0, 0
		return
	}
	h.fails++
	if ex.Err == ErrTimeout {
		h.timeouts++
	}
	if h.fails >= GiveUpAfter && h.givenUp == "" {
		what := "connection failures"
		if h.timeouts == h.fails {
			what = "timeouts"
		}
		h.givenUp = fmt.Sprintf("not run: instance given up after %d consecutive %s", GiveUpAfter, what)
	}
}
