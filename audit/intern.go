package audit

import (
	"net/http"
	"slices"
	"strings"
	"sync"
)

// headerInterner shares the header sets that thousands of instances send and
// answer alike: a run keeps each distinct set once (read-only), so memory
// follows the distinct answers, not instances x probes. Looking up a set
// that was seen before allocates nothing.
type headerInterner struct {
	mu sync.Mutex
	// answers numbers the distinct response header sets (from 1): the
	// names of every header and the values of the relevant ones, which is
	// all a verdict reads (see verdictCache); relevant[id-1] is the shared
	// copy of set id's relevant headers.
	answers  map[string]uint32
	relevant []http.Header
	request  map[string]http.Header
}

func newHeaderInterner() *headerInterner {
	return &headerInterner{answers: map[string]uint32{}, request: map[string]http.Header{}}
}

// maxInternKeys bounds the header names kept on the stack while a key is
// built; a header with more names is still interned, through the heap.
const maxInternKeys = 32

// responseHeaders returns the shared copy of the relevant headers of h
// (relevantHeaders(h, "")) and the number of h's answer: equal numbers,
// equal header names and equal relevant values.
func (in *headerInterner) responseHeaders(h http.Header) (http.Header, uint32) {
	var kb [512]byte
	key := appendHeaderKey(kb[:0], h, true)
	in.mu.Lock()
	defer in.mu.Unlock()
	if id, ok := in.answers[string(key)]; ok { // no allocation for the lookup
		return in.relevant[id-1], id
	}
	in.relevant = append(in.relevant, relevantHeaders(h, ""))
	id := uint32(len(in.relevant))
	in.answers[string(key)] = id
	return in.relevant[id-1], id
}

// requestHeaders returns the shared copy of request header h, which the
// caller must not change afterwards.
func (in *headerInterner) requestHeaders(h http.Header) http.Header {
	var kb [512]byte
	key := appendHeaderKey(kb[:0], h, false)
	in.mu.Lock()
	defer in.mu.Unlock()
	if shared, ok := in.request[string(key)]; ok {
		return shared
	}
	in.request[string(key)] = h
	return h
}

// appendHeaderKey appends to key a form of h that equal header sets share:
// the names in order, each followed by its values (only for the headers
// relevantHeaders keeps, when relevantOnly).
func appendHeaderKey(key []byte, h http.Header, relevantOnly bool) []byte {
	var buf [maxInternKeys]string
	names := buf[:0]
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		key = append(key, k...)
		if !relevantOnly || isRelevantHeader(k, "") {
			for _, v := range h[k] {
				key = append(key, 0)
				key = append(key, v...)
			}
		}
		key = append(key, 1)
	}
	return key
}

// isRelevantHeader reports whether response header name matters to CORS
// and caching (the headers relevantHeaders keeps), without allocating.
func isRelevantHeader(name, instanceHeader string) bool {
	const acPrefix = "access-control-"
	if len(name) >= len(acPrefix) && strings.EqualFold(name[:len(acPrefix)], acPrefix) {
		return true
	}
	// Vary and the cache evidence (a cache answered: its age, its own
	// hit or miss header, the layers it passed) matter to the cache
	// analysis.
	for _, n := range [...]string{"vary", "location", "age", "cache-control", "x-cache", "x-cache-status",
		"cf-cache-status", "x-served-by", "via", "x-varnish"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return instanceHeader != "" && strings.EqualFold(name, instanceHeader)
}

// spacedName reports whether a name of h ends in whitespace (a name a
// browser reads without it: readResponseHeader).
func spacedName(h http.Header) bool {
	for k := range h {
		if k != "" && (k[len(k)-1] == ' ' || k[len(k)-1] == '\t') {
			return true
		}
	}
	return false
}
