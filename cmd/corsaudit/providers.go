package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/providers"
)

// providersOptions are the arguments of `corsaudit providers`.
type providersOptions struct {
	Names []string
}

func newCmdProviders(ios iostreams, runF func(*providersOptions) error) *cobra.Command {
	opts := &providersOptions{}
	return &cobra.Command{
		Use:   "providers [NAME...]",
		Short: "Describe the discovery providers and the keys of their config section (no config needed)",
		Long: `Describe each discovery provider (` + strings.Join(providers.Names(), ", ") + `): what
it finds and every key of its section under a target's discover:, e.g.

  targets:
    - name: shop-api
      url: https://api.example.com/v1/cart
      discover:
        aws:
          load_balancer: shop-alb

` + sourcesHelp,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(opts)
			}
			return runProviders(ios, opts)
		},
	}
}

func runProviders(ios iostreams, opts *providersOptions) error {
	names := opts.Names
	if len(names) == 0 {
		names = providers.Names()
	}
	for i, name := range names {
		p, err := providers.Get(name)
		if err != nil {
			return usageError(err)
		}
		if i > 0 {
			fmt.Fprintln(ios.out)
		}
		fmt.Fprintln(ios.out, p.Help)
	}
	if len(opts.Names) == 0 {
		fmt.Fprintln(ios.out)
		fmt.Fprintln(ios.out, sourcesHelp)
	}
	return nil
}

// sourcesHelp is how several sources make one target.
const sourcesHelp = `discover: may also be a list of sources, each one provider section and an
optional group: (the group of every instance the source finds, whatever the
provider says), whose instances make one target: two backend services of a
traffic split, two load balancers, a static list and a DNS name. Gate
--baseline and --candidate may then name the groups of two sources:

      discover:
        - group: blue
          aws: {load_balancer: shop-blue}
        - group: green
          aws: {load_balancer: shop-green}

Pools are named after their source ("green/api-tg"). When a provider knows
the load balancer's routing (aws: listener rules; gcp: URL map), each
request is compared only among the instances of the pools its route
reaches; ` + "`corsaudit discover`" + ` shows the route of every probed path and step.`
