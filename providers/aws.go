//go:build !corsaudit_noaws

package providers

import "github.com/corsaudit/corsaudit/providers/aws"

// awsProvider is in every build but those tagged corsaudit_noaws.
var awsProvider = Registration{New: aws.New, Check: aws.Check, Help: aws.Help, Config: aws.Config{}}
