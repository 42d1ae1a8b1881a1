package discovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Source is one entry of a target's list of discovery sources: a
// provider, and the group every instance it finds belongs to.
type Source struct {
	// Name names the source in pool names and messages; the sources of a
	// target have distinct names.
	Name string
	// Group, when set, is the group of every instance the source finds
	// (what a gate compares), whatever the provider says.
	Group    string
	Provider Provider
}

// Sources is a Provider made of several sources (two backend services of
// a traffic split, two load balancers, a static list and a DNS name...):
// it runs each source's provider and makes one target of everything they
// find, so that their instances are compared with one another.
//
// When no source knows routing, the target has no Router: every instance
// answers every request. When one does, the pools of every source are
// qualified with its name ("green/api-tg"; the instances of a source
// without routing form the pool named after the source), and the
// target's Router asks each source: a request the sources all forward
// goes to the pools of all of them (one route naming each source's rule);
// otherwise each source's routes are possible outcomes (a request reaches
// one source or another).
type Sources []Source

// Discover runs every source's provider, in order. A source that fails
// fails the target: a gate must not compare a group with nothing.
func (s Sources) Discover(ctx context.Context) ([]Target, error) {
	type found struct {
		src     Source
		targets []Target
	}
	var all []found
	routed := false
	for _, src := range s {
		ts, err := src.Provider.Discover(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		for _, t := range ts {
			routed = routed || t.Router != nil
		}
		all = append(all, found{src, ts})
	}
	var out Target
	var parts []sourceRouter
	for _, f := range all {
		for k, t := range f.targets {
			if out.Name == "" {
				out.Name = t.Name
			}
			if out.URL == "" {
				out.URL = t.URL
			}
			prefix := f.src.Name
			if len(f.targets) > 1 {
				prefix = fmt.Sprintf("%s/%s", f.src.Name, targetLabel(t, k))
			}
			for _, in := range t.Instances {
				if f.src.Group != "" {
					in.Group = f.src.Group
				}
				if routed {
					in.Pool = qualify(prefix, in.Pool)
				}
				out.Instances = append(out.Instances, in)
			}
			parts = append(parts, sourceRouter{name: prefix, router: t.Router})
		}
	}
	if routed {
		out.Router = routers(parts)
	}
	return []Target{out}, nil
}

func targetLabel(t Target, k int) string {
	if t.Name != "" {
		return t.Name
	}
	return fmt.Sprintf("target-%d", k+1)
}

// qualify is pool's name within the source named prefix: the source's
// own name for an instance of no pool.
func qualify(prefix, pool string) string {
	if pool == "" {
		return prefix
	}
	return prefix + "/" + pool
}

// sourceRouter is one source's routing: its router, or none (every
// request goes to the source's instances).
type sourceRouter struct {
	name   string
	router Router
}

// routes is what the source does with req, its pools and rules qualified
// with its name.
func (s sourceRouter) routes(req Request) []Route {
	if s.router == nil {
		return []Route{{Rule: s.name + ": every request (no routing known)", Action: ActionForward,
			Pools: []Pool{{Name: s.name}}}}
	}
	rs := s.router.Route(req)
	out := make([]Route, len(rs))
	for i, r := range rs {
		r.Rule = s.name + ": " + r.Rule
		pools := make([]Pool, len(r.Pools))
		for j, p := range r.Pools {
			pools[j] = Pool{Name: qualify(s.name, p.Name), Weight: p.Weight}
		}
		r.Pools = pools
		out[i] = r
	}
	return out
}

// routers is the Router of several sources (see Sources).
type routers []sourceRouter

// Route asks every source. When each gives one route and all forward, the
// request goes to every source's pools: one route. Otherwise every route
// of every source is a possible outcome.
func (rs routers) Route(req Request) []Route {
	var all []Route
	forwardOnly := true
	for _, s := range rs {
		got := s.routes(req)
		forwardOnly = forwardOnly && len(got) == 1 && got[0].Action == ActionForward
		all = append(all, got...)
	}
	if !forwardOnly || len(all) < 2 {
		return all
	}
	one := Route{Action: ActionForward}
	var rules, notes []string
	for _, r := range all {
		rules = append(rules, r.Rule)
		if r.Note != "" && !slices.Contains(notes, r.Note) {
			notes = append(notes, r.Note)
		}
		one.Pools = append(one.Pools, r.Pools...)
	}
	one.Rule = strings.Join(rules, "; ")
	one.Note = strings.Join(notes, "; ")
	return []Route{one}
}
