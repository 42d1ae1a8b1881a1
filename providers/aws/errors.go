package aws

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// Errors a user can act on; match them with errors.Is.
var (
	// ErrLoadBalancerNotFound: no load balancer of that name, ARN or DNS
	// name in the region searched.
	ErrLoadBalancerNotFound = errors.New("load balancer not found")
	// ErrPermissionDenied: the identity lacks an IAM action.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrThrottled: AWS kept throttling after the SDK's retries.
	ErrThrottled = errors.New("throttled")
	// ErrCredentials: AWS rejected the credentials.
	ErrCredentials = errors.New("credentials rejected")
)

// classify turns an SDK error from calling action (an IAM action name such
// as "elasticloadbalancing:DescribeTargetHealth") while doing what into an
// error that says what to do about it. The SDK error stays wrapped.
func classify(action, what string, err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("aws: %s: %w", what, err)
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess":
		return fmt.Errorf("aws: %s: %w: the identity may not call %s; add it to its IAM policy (examples/aws/iam-policy.json lists every action corsaudit uses): %w",
			what, ErrPermissionDenied, action, err)
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled":
		return fmt.Errorf("aws: %s: %w: %s still throttled after the SDK's retries with backoff; retry later or raise AWS_MAX_ATTEMPTS: %w",
			what, ErrThrottled, action, err)
	case "InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "SignatureDoesNotMatch",
		"ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken":
		return fmt.Errorf("aws: %s: %w: check the credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO login, role_arn): %w",
			what, ErrCredentials, err)
	}
	return fmt.Errorf("aws: %s: %w", what, err)
}

// isCode reports whether err is an API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
