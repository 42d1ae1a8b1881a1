//go:build !corsaudit_noaws

package providers

import "github.com/corsaudit/corsaudit/providers/aws"

// awsProvider is in every build but those tagged corsaudit_noaws.
var awsProvider = Provider{New: aws.New, Help: aws.Help, Config: aws.Config{}}
