//go:build corsaudit_nogcp

package providers

// gcpProvider is left out of builds tagged corsaudit_nogcp.
var gcpProvider = Registration{LeftOut: "corsaudit_nogcp"}
