//go:build corsaudit_nok8s

package providers

// kubernetesProvider is left out of builds tagged corsaudit_nok8s.
var kubernetesProvider = Registration{LeftOut: "corsaudit_nok8s"}
