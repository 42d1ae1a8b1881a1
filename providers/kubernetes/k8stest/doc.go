// Package k8stest is a fake Kubernetes API server for tests: the paths,
// JSON shapes (typed lists with metadata.continue, Status errors) and
// query parameters (labelSelector, limit, continue) of the calls the
// kubernetes provider makes, served over TLS on loopback (client-go sends
// credentials only over TLS). It checks what it
// receives (GET only, the bearer token of its kubeconfig, JSON accepted)
// and counts calls.
package k8stest
