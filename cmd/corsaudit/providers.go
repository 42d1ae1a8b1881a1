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
          load_balancer: shop-alb`,
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
	return nil
}
