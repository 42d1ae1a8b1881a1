// Package prometheus holds the Prometheus side of `corsaudit serve`: a
// scrape config for both modes, alert rules with their unit tests, and a
// Kubernetes Deployment. Its tests run the real promtool on them and decode
// the manifests strictly; cmd/corsaudit's TestServeWithPrometheus has a
// real Prometheus scrape the exporter.
package prometheus

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/testinfra/testenv"
)

// promtool runs promtool with args in this directory.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	bin := testenv.LookTool(t, "promtool checks the examples", "promtool")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPromtoolCheckConfig(t *testing.T) {
	promtool(t, "check", "config", "prometheus.yml")
}

// alerts are the alerts every example ships with.
var alerts = []string{"CorsauditDrift", "CorsauditLBRedirect", "CorsauditStale", "CorsauditDown"}

// TestPromtoolTestRules runs the rules' unit tests, which hold, for each
// alert, a case where it fires and one where it does not.
func TestPromtoolTestRules(t *testing.T) {
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	data, err := os.ReadFile("corsaudit-rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &tests); err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] || !silent[a] {
			t.Errorf("%s: a case where it fires %v, where it does not %v; want both", a, fires[a], silent[a])
		}
	}
	rules, err := os.ReadFile("corsaudit-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if !bytes.Contains(rules, []byte("alert: "+a+"\n")) {
			t.Errorf("corsaudit-rules.yml has no alert %s", a)
		}
	}
	promtool(t, "test", "rules", "corsaudit-rules.test.yml")
}

// TestKubernetes: the manifests decode strictly into their API types and
// fit together: the Deployment runs `corsaudit serve` on the ConfigMap's
// config (which validates), listening on every interface at the port the
// Service and prometheus.yml use, with readiness and liveness on the
// exporter's endpoints; the /probe job lists targets of that config.
func TestKubernetes(t *testing.T) {
	data, err := os.ReadFile("kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deps []appsv1.Deployment
	var svcs []corev1.Service
	cms := map[string]corev1.ConfigMap{}
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(doc, &d); err != nil {
				t.Fatalf("doc %d: %v", i, err)
			}
			deps = append(deps, d)
		case "v1 Service":
			var s corev1.Service
			if err := yaml.UnmarshalStrict(doc, &s); err != nil {
				t.Fatalf("doc %d: %v", i, err)
			}
			svcs = append(svcs, s)
		case "v1 ConfigMap":
			var c corev1.ConfigMap
			if err := yaml.UnmarshalStrict(doc, &c); err != nil {
				t.Fatalf("doc %d: %v", i, err)
			}
			cms[c.Name] = c
		default:
			t.Fatalf("doc %d: no API type for %s %s in this test", i, head.APIVersion, head.Kind)
		}
	}
	if len(deps) != 1 || len(svcs) != 1 {
		t.Fatalf("%d Deployments, %d Services; want one each", len(deps), len(svcs))
	}
	dep, svc := deps[0], svcs[0]
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Error("the Deployment must run one replica (two would audit the fleet twice)")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" || !slices.Contains(c.Args, "--listen=:9877") || !slices.Contains(c.Args, "--log-format=json") {
		t.Errorf("container args %v: want serve --listen=:9877 --log-format=json", c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9877 || svc.Spec.Ports[0].Port != 9877 || svc.Spec.Ports[0].TargetPort.StrVal != c.Ports[0].Name {
		t.Errorf("ports: container %+v, service %+v", c.Ports, svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods do not have", k, v)
		}
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/-/ready" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/-/healthy" {
		t.Error("readiness must be /-/ready and liveness /-/healthy")
	}

	// The config file is the ConfigMap's key, mounted where --config says.
	vol := dep.Spec.Template.Spec.Volumes[0]
	mount := c.VolumeMounts[0]
	cm, ok := cms[vol.ConfigMap.Name]
	if !ok || mount.Name != vol.Name {
		t.Fatalf("volume %+v, mount %+v: no ConfigMap behind the config", vol, mount)
	}
	var path string
	for _, a := range c.Args {
		if p, ok := strings.CutPrefix(a, "--config="); ok {
			path = p
		}
	}
	key, ok := strings.CutPrefix(path, mount.MountPath+"/")
	if !ok || cm.Data[key] == "" {
		t.Fatalf("--config=%s is not a key of ConfigMap %s mounted at %s", path, cm.Name, mount.MountPath)
	}
	cfg, err := config.Parse([]byte(cm.Data[key]), "kubernetes.yaml "+key)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the ConfigMap's config is invalid: %v", err)
	}

	// prometheus.yml scrapes this Service, and probes this config's targets.
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
			RelabelConfigs []struct {
				Replacement string `json:"replacement"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	pdata, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(pdata, &prom); err != nil {
		t.Fatal(err)
	}
	addr := svc.Name + "." + svc.Namespace + ".svc:9877"
	var names []string
	for _, tg := range cfg.Targets {
		names = append(names, tg.Name)
	}
	for _, sc := range prom.ScrapeConfigs {
		switch sc.MetricsPath {
		case "", "/metrics":
			if sc.StaticConfigs[0].Targets[0] != addr {
				t.Errorf("job %s scrapes %v, want the Service %s", sc.JobName, sc.StaticConfigs[0].Targets, addr)
			}
		case "/probe":
			if last := sc.RelabelConfigs[len(sc.RelabelConfigs)-1].Replacement; last != addr {
				t.Errorf("job %s sends its scrapes to %s, want the Service %s", sc.JobName, last, addr)
			}
			for _, tg := range sc.StaticConfigs[0].Targets {
				if !slices.Contains(names, tg) {
					t.Errorf("job %s probes %s, which the config (%v) does not have", sc.JobName, tg, names)
				}
			}
		default:
			t.Errorf("job %s: metrics path %s", sc.JobName, sc.MetricsPath)
		}
	}
}
