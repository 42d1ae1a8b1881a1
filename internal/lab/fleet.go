package lab

import (
	"fmt"

	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// current is the CORS config every healthy fleet instance runs; it follows
// the policy exactly, and its answers carry an ETag (a cache, or the
// cache probe matrix, revalidates them).
func current(id string) labserver.Behavior {
	return labserver.Behavior{
		ID:            id,
		AllowOrigins:  PolicyOrigins,
		AllowMethods:  []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:  PolicyHeaders,
		ExposeHeaders: []string{"X-Request-Id"},
		Credentials:   true,
		MaxAge:        600,
		ETag:          true,
	}
}

// older is the CORS config from before PUT and X-Request-Id were allowed.
func older(id string) labserver.Behavior {
	b := current(id)
	b.AllowMethods = []string{"GET", "POST"}
	b.AllowHeaders = []string{"Content-Type"}
	b.MaxAge = 60
	return b
}

// Fleet is the "current/older" fleet the lab, the demo and benchfleet run:
// n instances in group "blue", named web-1 to web-n with the number padded
// to the width of n (web-01 ... web-12 for 12), all on the current CORS
// config that follows the policy except instance i (from 1) when isOlder(i),
// which runs the config from before PUT and X-Request-Id were allowed.
// isOlder may be nil.
func Fleet(n int, isOlder func(i int) bool) []Backend {
	width := len(fmt.Sprint(n))
	out := make([]Backend, n)
	for i := range out {
		id := fmt.Sprintf("web-%0*d", width, i+1)
		b := current(id)
		if isOlder != nil && isOlder(i+1) {
			b = older(id)
		}
		out[i] = Backend{Group: "blue", Behavior: b}
	}
	return out
}
