package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Kinds of API failure, for errors.Is on an *APIError.
var (
	ErrNotFound        = errors.New("not found")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("not authenticated")
	ErrUnreachable     = errors.New("cannot reach the API server")
	ErrTimeout         = errors.New("timed out")
)

// APIError is a failed Kubernetes API call, explained.
type APIError struct {
	// Op says what was attempted: "list endpointslices.discovery.k8s.io
	// in namespace prod".
	Op string
	// Kind is one of the Err* values, or nil when the failure is not one
	// of them.
	Kind error
	// Hint says what to do: the RBAC rule to add, the name to check.
	Hint string
	// Err is the client's error.
	Err error
}

// Error reads "kubernetes: <op>: <kind> (<hint>)", or the client's error
// when the kind is unknown.
func (e *APIError) Error() string {
	if e.Kind == nil {
		return "kubernetes: " + e.Op + ": " + printable(e.Err.Error())
	}
	msg := "kubernetes: " + e.Op + ": " + e.Kind.Error()
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

// Permission is one call the provider makes, as an RBAC rule names it.
type Permission struct {
	Group    string // "" for the core group
	Resource string
	Verb     string
}

// The provider's calls: every one is a get or a list, nothing writes.
var (
	getServices       = Permission{"", "services", "get"}
	listPods          = Permission{"", "pods", "list"}
	listEndpointSlice = Permission{"discovery.k8s.io", "endpointslices", "list"}
	getIngresses      = Permission{"networking.k8s.io", "ingresses", "get"}
	getHTTPRoutes     = Permission{httpRouteResource.Group, "httproutes", "get"}
)

// Permissions lists every call the provider makes, for a Role to grant
// (examples/kubernetes/rbac.yaml): a service target needs the first three,
// an ingress or httproute target its own get too.
var Permissions = []Permission{getServices, listEndpointSlice, listPods, getIngresses, getHTTPRoutes}

// callSpec describes one call for error messages.
type callSpec struct {
	Permission
	namespace string
	name      string // for a get
	// notFound, when set, is the hint of a 404.
	notFound string
}

// resourceName is the resource as RBAC and kubectl spell it:
// "endpointslices.discovery.k8s.io", "services".
func (c callSpec) resourceName() string {
	if c.Group == "" {
		return c.Resource
	}
	return c.Resource + "." + c.Group
}

// op is "get services shop in namespace prod".
func (c callSpec) op() string {
	s := c.Verb + " " + c.resourceName()
	if c.name != "" {
		s += " " + c.name
	}
	return s + " in namespace " + c.namespace
}

// explain turns a client error into an *APIError. parent is the caller's
// context: a deadline that passed on the per-call context only is the call
// timeout, reported as such. source says which kubeconfig and context (or
// the in-cluster account) the client uses.
func explain(parent context.Context, c callSpec, timeout time.Duration, source string, err error) error {
	e := &APIError{Op: c.op(), Err: err}
	var status apierrors.APIStatus
	switch {
	case parent.Err() != nil:
		// The run was cancelled: say so plainly.
	case errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
		e.Kind, e.Hint = ErrTimeout, "after "+timeout.String()+"; raise call_timeout or check the API server ("+source+")"
	case apierrors.IsForbidden(err):
		group := c.Group
		if group == "" {
			group = `"" (core)`
		}
		e.Kind = ErrForbidden
		e.Hint = fmt.Sprintf("RBAC must allow verb %q on resource %q in API group %s in namespace %s, see examples/kubernetes/rbac.yaml; the API server said %q",
			c.Verb, c.Resource, group, c.namespace, status403(err))
	case apierrors.IsUnauthorized(err):
		e.Kind, e.Hint = ErrUnauthenticated, "the API server rejected the credentials of "+source+"; refresh them (an expired token?)"
	case apierrors.IsNotFound(err):
		e.Kind = ErrNotFound
		e.Hint = c.notFound
		if errors.As(err, &status) && (status.Status().Details == nil || status.Status().Details.Name == "") {
			// A 404 without the object's name: the API server does not
			// serve the resource at all (a CRD not installed).
			e.Hint = fmt.Sprintf("the API server (%s) does not serve %s; is its CRD installed?", source, c.resourceName())
		}
	case !errors.As(err, &status):
		// No answer from the API server: connection refused, DNS, TLS.
		e.Kind, e.Hint = ErrUnreachable, source+": "+printable(err.Error())
	}
	return e
}

// printable is s, quoted when it holds anything but printable characters
// (a certificate name or a message from the network may carry terminal
// escapes).
func printable(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// status403 is the API server's message for a 403 (it names the user).
func status403(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}
