// Command corsaudit audits the CORS behaviour of a service running as many
// instances behind a load balancer.
package main
