package gcp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
)

// Kinds of API failure, for errors.Is on an *APIError.
var (
	ErrNotFound         = errors.New("not found")
	ErrPermissionDenied = errors.New("permission denied")
	ErrAPINotEnabled    = errors.New("compute engine API not enabled")
	ErrQuota            = errors.New("quota exceeded")
	ErrUnauthenticated  = errors.New("not authenticated")
	ErrTimeout          = errors.New("timed out")
)

// APIError is a failed compute API call, explained.
type APIError struct {
	// Op says what was attempted: "get backend service shop-backend".
	Op string
	// Kind is one of the Err* values, or nil when the failure is not one
	// of them.
	Kind error
	// Hint says what to do: the missing permission, the API to enable.
	Hint string
	// Err is the client's error.
	Err error
}

// Error reads "gcp: <op>: <kind> (<hint>)", or the client's error when the
// kind is unknown.
func (e *APIError) Error() string {
	if e.Kind == nil {
		return "gcp: " + e.Op + ": " + e.Err.Error()
	}
	msg := "gcp: " + e.Op + ": " + e.Kind.Error()
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap gives errors.Is/As both the kind and the client's error.
func (e *APIError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// callSpec describes one call for error messages.
type callSpec struct {
	op         string // "get backend service shop-backend"
	permission string // "compute.backendServices.get"
	project    string
	// notFound, when set, replaces the hint of a 404.
	notFound string
}

// explain turns a client error into an *APIError. parent is the caller's
// context: a deadline that passed on the per-call context only is the call
// timeout, reported as such.
func explain(parent context.Context, c callSpec, timeout time.Duration, err error) error {
	e := &APIError{Op: c.op, Err: err}
	var ge *googleapi.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
		e.Kind, e.Hint = ErrTimeout, "after "+timeout.String()+"; raise call_timeout or check the endpoint"
	case errors.As(err, &ge):
		e.Kind, e.Hint = classify(ge, c)
	}
	return e
}

// classify maps an API error envelope to a kind and a hint.
func classify(ge *googleapi.Error, c callSpec) (error, string) {
	reasons := make([]string, 0, len(ge.Errors))
	for _, it := range ge.Errors {
		reasons = append(reasons, it.Reason)
	}
	has := func(rs ...string) bool {
		for _, r := range reasons {
			for _, want := range rs {
				if strings.EqualFold(r, want) {
					return true
				}
			}
		}
		return false
	}
	msg := strings.ToLower(ge.Message)
	switch {
	case ge.Code == http.StatusNotFound:
		if c.notFound != "" {
			return ErrNotFound, c.notFound
		}
		return ErrNotFound, ""
	case ge.Code == http.StatusUnauthorized:
		return ErrUnauthenticated, "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
	case ge.Code == http.StatusTooManyRequests || has("rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "RATE_LIMIT_EXCEEDED"):
		return ErrQuota, "compute API read requests; retry later or ask for a higher quota in project " + c.project
	case ge.Code == http.StatusForbidden && (has("accessNotConfigured", "SERVICE_DISABLED") ||
		strings.Contains(msg, "has not been used in project") || strings.Contains(msg, "it is disabled")):
		return ErrAPINotEnabled, "enable it: gcloud services enable compute.googleapis.com --project " + c.project
	case ge.Code == http.StatusForbidden:
		return ErrPermissionDenied, "needs " + c.permission
	}
	return nil, ""
}
