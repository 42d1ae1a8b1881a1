package aws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/middleware"
)

// ELB is the part of the ELBv2 client the provider calls: one small
// per-operation interface each (the SDK's own paginator interfaces), so a
// test can fake exactly what it needs.
type ELB interface {
	elbv2.DescribeLoadBalancersAPIClient
	elbv2.DescribeListenersAPIClient
	elbv2.DescribeRulesAPIClient
	elbv2.DescribeTargetGroupsAPIClient
	elbv2.DescribeTargetHealthAPIClient
	ListenerAttributesAPIClient
}

// ListenerAttributesAPIClient is the DescribeListenerAttributes call (the
// SDK defines no interface for an operation without pages).
type ListenerAttributesAPIClient interface {
	DescribeListenerAttributes(ctx context.Context, in *elbv2.DescribeListenerAttributesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenerAttributesOutput, error)
}

// EC2 is the part of the EC2 client the provider calls.
type EC2 interface {
	ec2.DescribeInstancesAPIClient
}

// Compile-time checks that the SDK clients satisfy the seams.
var (
	_ ELB = (*elbv2.Client)(nil)
	_ EC2 = (*ec2.Client)(nil)
)

// callCounter counts API operations by name. It is a middleware added to
// the SDK clients; retries of one operation count once.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// newCallCounter returns an empty counter.
func newCallCounter() *callCounter { return &callCounter{n: map[string]int{}} }

// APIOptions returns the option that installs the counter on a client
// (config.WithAPIOptions, or Options.APIOptions of one client).
func (c *callCounter) APIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("corsauditCallCounter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.add(middleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}}
}

func (c *callCounter) add(op string) {
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
}

// snapshot returns a copy of the counts.
func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// httpDoer is the SDK's HTTP client interface.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// bufferedBodyClient hands the transport its own copy of the request body.
// The SDK closes the body it built as soon as Do returns, while the
// transport may still be finishing the write; the transport then closes
// the connection and the response fails to decode with "use of closed
// network connection" (aws/aws-sdk-go-v2#1825, #2737). Fast endpoints
// (moto, VPC endpoints) hit it often. Describe* request bodies are small.
type bufferedBodyClient struct{ next httpDoer }

// newHTTPClient is the SDK's default client behind bufferedBodyClient (for
// clients built without the config loader).
func newHTTPClient() httpDoer { return bufferedBodyClient{next: awshttp.NewBuildableClient()} }

// Do sends r with a body the SDK cannot close under the transport.
func (c bufferedBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("aws: buffer request body: %w", err)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r2.ContentLength = int64(len(b))
	return c.next.Do(r2)
}
