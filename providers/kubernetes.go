//go:build !corsaudit_nok8s

package providers

import "github.com/corsaudit/corsaudit/providers/kubernetes"

// kubernetesProvider is in every build but those tagged corsaudit_nok8s.
var kubernetesProvider = Registration{New: kubernetes.New, Check: kubernetes.Check, Help: kubernetes.Help, Config: kubernetes.Config{}}
