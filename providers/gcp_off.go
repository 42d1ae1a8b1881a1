//go:build corsaudit_nogcp

package providers

// gcpProvider is left out of builds tagged corsaudit_nogcp.
var gcpProvider = Provider{LeftOut: "corsaudit_nogcp"}
