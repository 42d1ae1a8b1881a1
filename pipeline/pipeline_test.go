package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/diff/render"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
)

// testConfig is a config for a loopback fleet: a reflecting instance (so
// adversarial origins give findings) and two that follow the policy.
// mustBuild builds cfg as a command does before handing it to a run.
func mustBuild(t testing.TB, cfg *config.Config) *config.Built {
	t.Helper()
	b, err := cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	good := labserver.Behavior{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"}, Credentials: true}
	reflecting := good
	reflecting.ReflectOrigin = true
	var insts []any
	for _, in := range []struct {
		id  string
		beh labserver.Behavior
	}{{"a", good}, {"b", good}, {"c", reflecting}} {
		in.beh.ID = in.id
		srv := httptest.NewServer(labserver.New(in.beh))
		t.Cleanup(srv.Close)
		insts = append(insts, map[string]any{"id": in.id, "addr": srv.Listener.Addr().String()})
	}
	c := config.Default()
	c.Timeout = 2 * time.Second
	c.Targets = []config.Target{{
		Name: "shop", URL: "http://api.example.com/v1/cart",
		Discover: map[string]map[string]any{"static": {"instances": insts}},
		Direct:   config.Direct{Scheme: "http"},
		LB:       config.LB{Disabled: true},
		Policy:   config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "PUT"}, Credentials: true},
	}}
	return &c
}

// TestRunIsDeterministic: two runs of the same config plan the same probes
// (adversarial origins included) and give the same SARIF fingerprints.
func TestRunIsDeterministic(t *testing.T) {
	cfg := testConfig(t)
	var probes [2][]string
	var prints [2][]string
	for i := range 2 {
		rep, err := Audit(context.Background(), mustBuild(t, cfg), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Targets[0].Probes {
			probes[i] = append(probes[i], p.ID+" "+p.Method+" "+p.Origin)
		}
		var sarif bytes.Buffer
		if err := render.SARIF(&sarif, rep); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Runs []struct {
				Results []struct {
					PartialFingerprints map[string]string `json:"partialFingerprints"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(sarif.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, r := range doc.Runs[0].Results {
			for _, fp := range r.PartialFingerprints {
				prints[i] = append(prints[i], fp)
			}
		}
		sort.Strings(prints[i])
	}
	adversarial := 0
	for _, p := range probes[0] {
		if strings.Contains(p, ".example ") || strings.HasSuffix(p, ".example") {
			adversarial++
		}
	}
	if adversarial == 0 {
		t.Fatalf("no adversarial probe with a made-up origin in %v", probes[0])
	}
	if !reflect.DeepEqual(probes[0], probes[1]) {
		t.Errorf("probe lists differ:\n%v\n%v", probes[0], probes[1])
	}
	if len(prints[0]) == 0 {
		t.Fatal("no SARIF result to compare (the reflecting instance should give findings)")
	}
	if !reflect.DeepEqual(prints[0], prints[1]) {
		t.Errorf("SARIF fingerprints differ:\n%v\n%v", prints[0], prints[1])
	}
}

func TestRunStopsBeforeProbing(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		edit    func(*config.Config)
		sel     func([]audit.TargetSpec) ([]audit.TargetSpec, error)
		build   func(*config.Config) (*config.Built, error) // nil: Build
		wantErr string
	}{
		{desc: "built for discovery only", build: (*config.Config).BuildDiscovery,
			wantErr: "pipeline: the config was built for discovery only (config.BuildDiscovery): build it with Build to probe"},
		{desc: "plan over max_probes", edit: func(c *config.Config) { c.MaxProbes = 1 }, wantErr: "target shop: plan: the policy alone needs"},
		{desc: "select refuses", sel: func([]audit.TargetSpec) ([]audit.TargetSpec, error) { return nil, errors.New("no") }, wantErr: "no"},
	} {
		cfg := testConfig(t)
		if tc.edit != nil {
			tc.edit(cfg)
		}
		built := mustBuild(t, cfg)
		if tc.build != nil {
			var err error
			if built, err = tc.build(cfg); err != nil {
				t.Fatal(err)
			}
		}
		var log bytes.Buffer
		rep, err := Audit(context.Background(), built, Options{Log: &log, Select: tc.sel})
		if rep != nil || err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, errIncomplete) {
			t.Errorf("%s: report %v, err %v; want no report and %q", tc.desc, rep != nil, err, tc.wantErr)
		}
		if strings.Contains(log.String(), "auditing") {
			t.Errorf("%s: probing started:\n%s", tc.desc, log.String())
		}
	}
}

// TestAuditOneTarget: Audit over one of the targets Build made (Only)
// audits that one only, and over every one of them gives the whole
// report (the exporter audits each target on its own, from one Build).
func TestAuditOneTarget(t *testing.T) {
	cfg := testConfig(t)
	second := cfg.Targets[0]
	second.Name = "shop-2"
	cfg.Targets = append(cfg.Targets, second)
	built := mustBuild(t, cfg)
	render := func(rep *diff.Report, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		rep.StartedAt, rep.Duration = time.Time{}, 0
		var b bytes.Buffer
		if err := render.JSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	whole := render(Audit(context.Background(), built, Options{}))
	if got := render(Audit(context.Background(), built.Only(built.Targets...), Options{})); got != whole {
		t.Errorf("Audit of Only(every target) differs from Audit:\n%s\nwant\n%s", got, whole)
	}
	rep, err := Audit(context.Background(), built.Only(built.Targets[1]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 1 || rep.Targets[0].Name != "shop-2" {
		t.Errorf("Audit(Only(targets[1])) audited %d targets (%+v), want shop-2 only", len(rep.Targets), rep.Targets)
	}
	for _, f := range rep.Findings {
		if f.Target != "shop-2" {
			t.Errorf("finding on %s, want shop-2 only", f.Target)
		}
	}
}
