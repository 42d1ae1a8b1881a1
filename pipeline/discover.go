package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
)

// discoverSpecs runs every target's provider and applies the config's name and
// URL, returning one spec (without probes) per discovered target. A
// provider error is joined into the error; the other targets go on.
func discoverSpecs(ctx context.Context, built []config.BuiltTarget) ([]audit.TargetSpec, error) {
	specs, _, err := discover(ctx, built)
	return specs, err
}

// discover is discoverSpecs, also returning the configured target of each spec
// (its policy and paths).
func discover(ctx context.Context, built []config.BuiltTarget) ([]audit.TargetSpec, []config.BuiltTarget, error) {
	var specs []audit.TargetSpec
	var from []config.BuiltTarget
	var errs []error
	for _, b := range built {
		found, err := b.Provider.Discover(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("targets[%d] (%s): %w", b.Index, b.Label, err))
			continue
		}
		for _, t := range found {
			if b.Name != "" {
				name := b.Name
				if len(found) > 1 {
					name += "/" + t.Name // the provider's name tells them apart
				}
				t.Name = name
			}
			if b.URL != "" {
				t.URL = b.URL
			}
			if t.Name == "" {
				t.Name = b.Label
			}
			if t.URL == "" {
				errs = append(errs, fmt.Errorf("targets[%d] (%s): no url given and the provider found none", b.Index, t.Name))
				continue
			}
			specs = append(specs, audit.TargetSpec{Target: t, Direct: b.Direct, LB: b.LB, Fronts: b.Fronts, Auth: b.Auth, TLS: b.TLS})
			from = append(from, b)
		}
	}
	return specs, from, errors.Join(errs...)
}
