package audit

import (
	"fmt"
	"sync"
)

// giveUpAfter is how many consecutive requests to one instance may fail
// without a response (connection failures or timeouts, a body that does not
// arrive within the timeout included, counted across its parallel workers)
// before the rest of its probes are not run: one dead or trickling instance
// costs about giveUpAfter timeouts, whatever the number of probes.
const giveUpAfter = 2

// instanceHealth counts an instance's consecutive failed requests and gives
// the instance up after giveUpAfter. A nil *instanceHealth never gives up
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
	if ex.Failed() {
		h.fail(ex.Err == ErrTimeout)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails, h.timeouts = 0, 0
}

// bodyTimedOut counts a response whose headers came but whose body did not
// within the timeout (a server trickling it) as a timeout: the browser has
// its answer, but every further request would wait the full timeout too.
func (h *instanceHealth) bodyTimedOut() {
	if h != nil {
		h.fail(true)
	}
}

// fail counts a failed request (timeout: it timed out).
func (h *instanceHealth) fail(timeout bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails++
	if timeout {
		h.timeouts++
	}
	if h.fails >= giveUpAfter && h.givenUp == "" {
		what := "connection failures"
		if h.timeouts == h.fails {
			what = "timeouts"
		}
		h.givenUp = fmt.Sprintf("not run: instance given up after %d consecutive %s", giveUpAfter, what)
	}
}
