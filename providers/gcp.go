//go:build !corsaudit_nogcp

package providers

import "github.com/corsaudit/corsaudit/providers/gcp"

// gcpProvider is in every build but those tagged corsaudit_nogcp.
var gcpProvider = Registration{New: gcp.New, Check: gcp.Check, Help: gcp.Help, Config: gcp.Config{}}
