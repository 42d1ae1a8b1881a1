//go:build corsaudit_noaws

package providers

// awsProvider is left out of builds tagged corsaudit_noaws.
var awsProvider = Provider{LeftOut: "corsaudit_noaws"}
