// Package kubernetes is the provider for the pods behind a Kubernetes
// Service, or behind the Services an Ingress or a Gateway API HTTPRoute
// routes to: one instance per ready endpoint of the Services'
// EndpointSlices, named by its pod, grouped by a pod label (the version, or
// the ReplicaSet of a rollout), with health from the endpoint's conditions.
// For an Ingress or an HTTPRoute the target carries a Router that answers,
// per request, which Service the route sends it to.
//
// It only reads (get and list). Calls made for one Discover, with S
// Services and every list fitting one page (500 items):
//
//	1  get ingress or httproute (none for a service target)
//	S  get service
//	S  list endpointslices, label kubernetes.io/service-name=NAME
//	S  list pods, with the Service's selector as label selector
//
// A Service of 1,000 pods (10 EndpointSlices of 100) costs 4 calls: one
// get, one page of slices, two pages of pods; never one call per pod.
//
// The client is client-go's REST client with a scheme of the three API
// groups read here (core, discovery.k8s.io, networking.k8s.io), and its
// dynamic client for HTTPRoutes decoded into the few fields routing needs:
// neither the full clientset (every API group's types and clients) nor the
// gateway-api module is linked in.
package kubernetes
