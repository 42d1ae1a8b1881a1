//go:build corsaudit_noaws

package providers

// awsProvider is left out of builds tagged corsaudit_noaws.
var awsProvider = Registration{LeftOut: "corsaudit_noaws"}
