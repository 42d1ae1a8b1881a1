// Package gcp is the provider for the instances behind a Google Cloud
// backend service (global or regional): its instance groups (zonal and
// regional, managed or not) and its zonal GCE_VM_IP_PORT network endpoint
// groups, with their health from getHealth.
//
// Calls made for one Discover, with G groups spread over Z zones and
// every list fitting one page (500 items):
//
//	1                  backend service get
//	G (IG) or 2G (NEG) group listInstances, or NEG get + listNetworkEndpoints
//	G                  getHealth, one per group
//	Z                  instances list per zone, filtered on the member names
//	4                  URL maps, HTTP and HTTPS target proxies, forwarding rules
//	1 per service      get, for each backend service in a weighted split
//	                   with it (their groups as above)
//	1 per IAP service  IAP settings get (iap.googleapis.com), for each of
//	                   them with Identity-Aware Proxy enabled
//
// so 3 zonal instance groups of 100 instances in 3 zones cost 14 calls,
// never one call per instance, nor one per URL map, proxy or rule.
//
// What the load balancer routes where is modelled from what these calls
// read: router.go picks the forwarding rule and URL map that serve a URL,
// urlmaprouting.go evaluates the URL map. facts.go says what the backend
// services' configuration does to CORS (customResponseHeaders, Cloud CDN's
// cache key, IAP and preflights).
package gcp
