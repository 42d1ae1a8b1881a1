// Package awstest runs moto_server (a local AWS emulator) for integration
// tests and builds an Application Load Balancer in it: a VPC, two subnets,
// target groups with ip targets (loopback addresses where test servers
// listen) or EC2 instances, listeners and rules. CreateALB builds a ready
// one whose rule splits traffic by weight; NewALB, AddGroup, AddListener
// and AddRule build any other. It never talks to AWS: every client is
// pointed at the local emulator with dummy credentials.
package awstest
