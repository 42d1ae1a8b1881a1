package aws

import (
	"context"
	"sort"
	"sync"

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

// CallCounter counts API operations by name. It is a middleware added to
// the SDK clients; retries of one operation count once.
type CallCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// NewCallCounter returns an empty counter.
func NewCallCounter() *CallCounter { return &CallCounter{n: map[string]int{}} }

// APIOptions returns the option that installs the counter on a client
// (config.WithAPIOptions, or Options.APIOptions of one client).
func (c *CallCounter) APIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("corsauditCallCounter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.add(middleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}}
}

func (c *CallCounter) add(op string) {
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
}

// Snapshot returns a copy of the counts.
func (c *CallCounter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// Total is the number of operations counted.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// Ops lists the operation names counted, sorted.
func (c *CallCounter) Ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.n))
	for k := range c.n {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
