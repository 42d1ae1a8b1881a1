package discovery

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

type fixed struct {
	t   Target
	err error
}

func (f fixed) Discover(context.Context) ([]Target, error) { return []Target{f.t}, f.err }

// byMethod routes OPTIONS and the rest by a route each.
type byMethod struct{ options, rest Route }

func (r byMethod) Route(req Request) []Route {
	if req.Method == "OPTIONS" {
		return []Route{r.options}
	}
	return []Route{r.rest}
}

// TestSources: the sources' instances make one target; each source's
// group wins; with a router anywhere, pools are qualified by source and a
// request every source forwards goes to all their pools as one route,
// while a source that answers it itself makes each source's route an
// outcome of its own.
func TestSources(t *testing.T) {
	alb := byMethod{
		options: Route{Rule: "rule 1", Action: ActionFixedResponse, Detail: "fixed response 204"},
		rest:    Route{Rule: "default", Action: ActionForward, Pools: []Pool{{Name: "api", Weight: 1}}},
	}
	srcs := Sources{
		{Name: "blue", Group: "blue", Provider: fixed{t: Target{Name: "shop", URL: "https://shop.example.com/",
			Instances: []Instance{{ID: "b1", Group: "tg-blue", Pool: "api"}}, Router: alb}}},
		{Name: "green", Group: "green", Provider: fixed{t: Target{Instances: []Instance{{ID: "g1"}}}}},
	}
	ts, err := srcs.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Name != "shop" || ts[0].URL != "https://shop.example.com/" {
		t.Fatalf("targets %+v, want one named shop", ts)
	}
	var got []string
	for _, in := range ts[0].Instances {
		got = append(got, in.ID+" "+in.Group+" "+in.Pool)
	}
	if want := []string{"b1 blue blue/api", "g1 green green"}; !reflect.DeepEqual(got, want) {
		t.Errorf("instances %q, want %q", got, want)
	}
	u, _ := url.Parse("https://shop.example.com/")
	for _, tc := range []struct {
		desc, method string
		want         []Route
	}{
		{desc: "both forward: one route to both sources' pools", method: "GET", want: []Route{{
			Rule: "blue: default; green: every request (no routing known)", Action: ActionForward,
			Pools: []Pool{{Name: "blue/api", Weight: 1}, {Name: "green"}}}}},
		{desc: "one answers itself: each source's route is an outcome", method: "OPTIONS", want: []Route{
			{Rule: "blue: rule 1", Action: ActionFixedResponse, Detail: "fixed response 204", Pools: []Pool{}},
			{Rule: "green: every request (no routing known)", Action: ActionForward, Pools: []Pool{{Name: "green"}}}}},
	} {
		if got := ts[0].Router.Route(Request{Method: tc.method, URL: u}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.desc, got, tc.want)
		}
	}

	// Without any router, nothing is qualified and there is no router.
	plain, err := Sources{srcs[1], {Name: "static", Provider: fixed{t: Target{Instances: []Instance{{ID: "s1", Group: "canary"}}}}}}.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if plain[0].Router != nil || plain[0].Instances[0].Pool != "" || plain[0].Instances[1].Group != "canary" {
		t.Errorf("without routing: %+v", plain[0])
	}

	// A source that fails fails the target, named.
	_, err = Sources{srcs[0], {Name: "green", Provider: fixed{err: errors.New("no such service")}}}.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "green: no such service") {
		t.Errorf("err = %v, want it to name the failing source", err)
	}
}
