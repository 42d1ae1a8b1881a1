// Package kubernetes holds the manifests of a sharded corsaudit run on
// Kubernetes (a CronJob of Indexed Jobs, see cronjobs.yaml) and of an
// in-cluster audit of a Service's pods (service-audit.yaml, with the Role
// of rbac.yaml). No cluster is needed to test them: every manifest is
// decoded strictly into its API type, and the scripts the pods run are run
// here, on loopback, with the real corsaudit.
package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/internal/lab/labserver"
	"github.com/corsaudit/corsaudit/providers/kubernetes"
)

// manifests are the decoded objects of every *.yaml file here.
type manifests struct {
	cronJobs   []batchv1.CronJob
	accounts   map[string]corev1.ServiceAccount
	configMaps map[string]corev1.ConfigMap
	claims     map[string]corev1.PersistentVolumeClaim
	roles      []rbacv1.Role
	bindings   []rbacv1.RoleBinding
}

// splitDocs splits a multi-document YAML file.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// decodeAll decodes every manifest strictly: an unknown or misspelt field,
// a wrong type or a duplicate key is an error.
func decodeAll(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	m := manifests{accounts: map[string]corev1.ServiceAccount{}, configMaps: map[string]corev1.ConfigMap{},
		claims: map[string]corev1.PersistentVolumeClaim{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitDocs(b) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s doc %d: %v", f, i, err)
			}
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "batch/v1 CronJob":
				obj = &batchv1.CronJob{}
			case "v1 ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			case "rbac.authorization.k8s.io/v1 Role":
				obj = &rbacv1.Role{}
			case "rbac.authorization.k8s.io/v1 RoleBinding":
				obj = &rbacv1.RoleBinding{}
			default:
				t.Fatalf("%s doc %d: no API type for %s %s in this test", f, i, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s doc %d (%s): %v", f, i, head.Kind, err)
			}
			switch o := obj.(type) {
			case *batchv1.CronJob:
				m.cronJobs = append(m.cronJobs, *o)
			case *corev1.ServiceAccount:
				m.accounts[o.Name] = *o
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = *o
			case *corev1.PersistentVolumeClaim:
				m.claims[o.Name] = *o
			case *rbacv1.Role:
				m.roles = append(m.roles, *o)
			case *rbacv1.RoleBinding:
				m.bindings = append(m.bindings, *o)
			}
		}
	}
	return m
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// releaseImage matches the corsaudit image of a release, never latest.
var releaseImage = regexp.MustCompile(`^ghcr\.io/corsaudit/corsaudit:v\d+\.\d+\.\d+(-shell)?$`)

// TestStrictDecodingRejectsUnknownFields: the decoding the manifests pass
// fails on a misspelt field, so passing it means something.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	for _, tc := range []struct {
		desc string
		doc  string
	}{
		{"misspelt field", "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedul: '* * * * *'\n"},
		{"field at the wrong level", "apiVersion: batch/v1\nkind: CronJob\nspec:\n  completionMode: Indexed\n"},
		{"duplicate key", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, name: b}\n"},
	} {
		var obj batchv1.CronJob
		if err := yaml.UnmarshalStrict([]byte(tc.doc), &obj); err == nil {
			t.Errorf("%s: decoded without error", tc.desc)
		}
	}
	var role rbacv1.Role
	if err := yaml.UnmarshalStrict([]byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nrules:\n- apiGroups: ['']\n  verb: [get]\n"), &role); err == nil {
		t.Error("Role with a misspelt verbs: decoded without error")
	}
}

// TestManifests: the manifests decode strictly and fit together: every
// sharded CronJob (one per cloud identity) runs an Indexed Job of
// SHARDS+1 pods at once, under a ServiceAccount carrying its cloud
// identity, with a config that validates and a ReadWriteMany claim that
// exists.
func TestManifests(t *testing.T) {
	m := decodeAll(t)
	if len(m.cronJobs) != 3 {
		t.Fatalf("%d CronJobs, want 3 (aws, gcp sharded; the in-cluster service audit)", len(m.cronJobs))
	}
	identity := map[string]string{"corsaudit-aws": "eks.amazonaws.com/role-arn", "corsaudit-gcp": "iam.gke.io/gcp-service-account"}
	sharded := 0
	for _, cj := range m.cronJobs {
		if _, cloud := identity[cj.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName]; !cloud {
			continue
		}
		sharded++
		job := cj.Spec.JobTemplate.Spec
		pod := job.Template.Spec
		if job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion {
			t.Errorf("%s: completionMode is not Indexed", cj.Name)
		}
		if len(pod.Containers) != 2 {
			t.Fatalf("%s: %d containers, want corsaudit and push", cj.Name, len(pod.Containers))
		}
		shards, err := strconv.Atoi(env(pod.Containers[0], "SHARDS"))
		if err != nil || shards < 1 {
			t.Fatalf("%s: SHARDS = %q", cj.Name, env(pod.Containers[0], "SHARDS"))
		}
		if env(pod.Containers[1], "SHARDS") != env(pod.Containers[0], "SHARDS") {
			t.Errorf("%s: the push container has SHARDS %q, corsaudit %q", cj.Name, env(pod.Containers[1], "SHARDS"), env(pod.Containers[0], "SHARDS"))
		}
		if job.Completions == nil || int(*job.Completions) != shards+1 || job.Parallelism == nil || *job.Parallelism != *job.Completions {
			t.Errorf("%s: completions %v, parallelism %v; want both SHARDS+1 = %d", cj.Name, job.Completions, job.Parallelism, shards+1)
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid (runs must not overlap)", cj.Name, cj.Spec.ConcurrencyPolicy)
		}
		// run.sh needs a shell: the release image's -shell variant, pinned
		// (examples/ci TestPinnedVersions keeps every pin on one release).
		if c := pod.Containers[0]; !releaseImage.MatchString(c.Image) || !strings.HasSuffix(c.Image, "-shell") || c.Command[0] != "/bin/sh" {
			t.Errorf("%s: container %s runs %q in %q; want /bin/sh in ghcr.io/corsaudit/corsaudit:vX.Y.Z-shell", cj.Name, c.Name, c.Command, c.Image)
		}
		sa, ok := m.accounts[pod.ServiceAccountName]
		if !ok || sa.Annotations[identity[pod.ServiceAccountName]] == "" {
			t.Errorf("%s: service account %q missing or without its cloud identity annotation %q", cj.Name, pod.ServiceAccountName, identity[pod.ServiceAccountName])
		}
		for _, v := range pod.Volumes {
			switch {
			case v.ConfigMap != nil:
				cm, ok := m.configMaps[v.ConfigMap.Name]
				key := filepath.Base(env(pod.Containers[0], "CONFIG"))
				if !ok || cm.Data[key] == "" || cm.Data["run.sh"] == "" || cm.Data["push.sh"] == "" {
					t.Errorf("%s: config map %q lacks %s, run.sh or push.sh", cj.Name, v.ConfigMap.Name, key)
					continue
				}
				cfg, err := config.Parse([]byte(cm.Data[key]), key)
				if err == nil {
					err = cfg.Validate()
				}
				if err != nil {
					t.Errorf("%s: %s: %v", cj.Name, key, err)
				}
			case v.PersistentVolumeClaim != nil:
				pvc, ok := m.claims[v.PersistentVolumeClaim.ClaimName]
				if !ok || len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != corev1.ReadWriteMany {
					t.Errorf("%s: claim %q missing or not ReadWriteMany (shards run on several nodes)", cj.Name, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
	}
	if sharded != 2 {
		t.Errorf("%d sharded CronJobs, want 2 (aws, gcp)", sharded)
	}
	for name, data := range m.configMaps["corsaudit"].Data {
		if strings.HasSuffix(name, ".sh") {
			cmd := exec.Command("sh", "-n")
			cmd.Stdin = strings.NewReader(data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: sh -n: %v\n%s", name, err, out)
			}
		}
	}
}

// TestServiceAudit: the in-cluster CronJob audits a Service with a
// config that validates, under a ServiceAccount that a RoleBinding in the
// audited namespace binds to a Role granting exactly the provider's calls
// (get and list, no watch, no wildcard).
func TestServiceAudit(t *testing.T) {
	m := decodeAll(t)
	var cj *batchv1.CronJob
	for i := range m.cronJobs {
		if m.cronJobs[i].Name == "corsaudit-k8s" {
			cj = &m.cronJobs[i]
		}
	}
	if cj == nil {
		t.Fatal("no CronJob corsaudit-k8s")
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if _, ok := m.accounts[pod.ServiceAccountName]; !ok || len(pod.Containers) != 1 || len(pod.Volumes) != 1 || pod.Volumes[0].ConfigMap == nil {
		t.Fatalf("pod: account %q (exists %v), %d containers, volumes %+v", pod.ServiceAccountName, ok, len(pod.Containers), pod.Volumes)
	}
	args := pod.Containers[0].Args
	if len(args) == 0 || args[0] != "audit" || !slices.Contains(args, "--config=/etc/corsaudit/corsaudit.yaml") ||
		pod.Containers[0].VolumeMounts[0].MountPath != "/etc/corsaudit" {
		t.Errorf("container args %q, mounts %+v", args, pod.Containers[0].VolumeMounts)
	}
	data := m.configMaps[pod.Volumes[0].ConfigMap.Name].Data["corsaudit.yaml"]
	cfg, err := config.Parse([]byte(data), "corsaudit.yaml")
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var targets struct {
		Targets []struct {
			Discover struct {
				Kubernetes struct {
					Namespace string `json:"namespace"`
				} `json:"kubernetes"`
			} `json:"discover"`
		} `json:"targets"`
	}
	if err := yaml.Unmarshal([]byte(data), &targets); err != nil || len(targets.Targets) != 1 || targets.Targets[0].Discover.Kubernetes.Namespace == "" {
		t.Fatalf("config targets %+v (%v): want one kubernetes target with its namespace", targets, err)
	}
	ns := targets.Targets[0].Discover.Kubernetes.Namespace
	var role *rbacv1.Role
	for _, b := range m.bindings {
		bound := slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == pod.ServiceAccountName && s.Namespace == cj.Namespace
		})
		if b.Namespace != ns || !bound || b.RoleRef.Kind != "Role" || b.RoleRef.APIGroup != rbacv1.GroupName {
			continue
		}
		for i := range m.roles {
			if m.roles[i].Name == b.RoleRef.Name && m.roles[i].Namespace == ns {
				role = &m.roles[i]
			}
		}
	}
	if role == nil {
		t.Fatalf("no Role in namespace %s bound to %s/%s", ns, cj.Namespace, pod.ServiceAccountName)
	}
	var granted []kubernetes.Permission
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: resourceNames or nonResourceURLs", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					p := kubernetes.Permission{Group: g, Resource: res, Verb: v}
					if slices.Contains(granted, p) {
						t.Errorf("%+v granted twice", p)
					}
					granted = append(granted, p)
				}
			}
		}
	}
	key := func(p kubernetes.Permission) string { return p.Group + "/" + p.Resource + "/" + p.Verb }
	want := slices.Sorted(slices.Values(keysOf(kubernetes.Permissions, key)))
	got := slices.Sorted(slices.Values(keysOf(granted, key)))
	if !slices.Equal(got, want) {
		t.Errorf("Role grants %q, want exactly the provider's calls %q", got, want)
	}
}

func keysOf[T any](xs []T, key func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, key(x))
	}
	return out
}

// buildCorsaudit builds the corsaudit command into dir.
func buildCorsaudit(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "corsaudit")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/corsaudit/corsaudit/cmd/corsaudit").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPodScripts runs what the pods of one Job run, as local processes
// with the real corsaudit on a loopback fleet: SHARDS shard pods and the
// last index (discover, wait, merge) started together, then the push
// container against a fake Pushgateway that checks what it receives.
func TestPodScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corsaudit")
	}
	dir := t.TempDir()
	bin := buildCorsaudit(t, dir)
	m := decodeAll(t)
	scripts := m.configMaps["corsaudit"].Data
	for _, name := range []string{"run.sh", "push.sh"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(scripts[name]), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var insts []string
	for i := range 5 {
		b := labserver.Behavior{ID: fmt.Sprintf("i%d", i), AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"}}
		if i < 2 {
			b.AllowMethods = []string{"GET"}
		}
		srv := httptest.NewServer(labserver.New(b))
		t.Cleanup(srv.Close)
		insts = append(insts, fmt.Sprintf("{id: i%d, addr: %s}", i, srv.Listener.Addr()))
	}
	cfgPath := filepath.Join(dir, "fleet.yaml")
	cfg := "timeout: 5s\ntargets:\n  - name: shop\n    url: http://api.example.com/\n    discover: {static: {instances: [" +
		strings.Join(insts, ", ") + "]}}\n    direct: {scheme: http}\n    lb: {disabled: true}\n" +
		"    policy: {origins: [https://app.example.com], methods: [GET, PUT]}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(dir, "shared")
	const shards = 3
	base := append(os.Environ(), "CORSAUDIT="+bin, "SHARED="+shared, "RUN=corsaudit-aws-29000000", "CONFIG="+cfgPath,
		"SHARDS="+strconv.Itoa(shards), "POLL_SECONDS=0.1", "WAIT_SECONDS=60")
	errs := make([]error, shards+1)
	outs := make([]bytes.Buffer, shards+1)
	var wg sync.WaitGroup
	for k := range shards + 1 {
		cmd := exec.Command("sh", filepath.Join(dir, "run.sh"))
		cmd.Env = append(slices.Clip(base), "JOB_COMPLETION_INDEX="+strconv.Itoa(k))
		cmd.Stdout, cmd.Stderr = &outs[k], &outs[k]
		wg.Go(func() { errs[k] = cmd.Run() })
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Errorf("index %d: %v\n%s", k, err, outs[k].String())
		}
	}
	run := filepath.Join(shared, "corsaudit-aws-29000000")
	if done, _ := os.ReadFile(filepath.Join(run, "done")); strings.TrimSpace(string(done)) != "0" {
		t.Fatalf("done marker %q, want 0\n%s", done, outs[shards].String())
	}
	single, err := exec.Command(bin, "audit", "--config", cfgPath, "--format", "json", "--fail-on", "never").Output()
	if err != nil {
		t.Fatal(err)
	}
	merged, err := os.ReadFile(filepath.Join(run, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w, g := findings(t, single), findings(t, merged); w != g || !strings.Contains(g, "verdict-drift") {
		t.Errorf("merged findings differ from a single audit's (or lack the drift of i0, i1):\nsingle: %s\nmerged: %s", w, g)
	}

	// The push container: only the last index pushes, with PUT, the
	// metrics file as is.
	prom, err := os.ReadFile(filepath.Join(run, "corsaudit.prom"))
	if err != nil {
		t.Fatal(err)
	}
	pushed := make(chan string, 4)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		pushed <- r.Method + " " + r.URL.Path + "\n" + string(body)
	}))
	defer gw.Close()
	for k := range shards + 1 {
		cmd := exec.Command("sh", filepath.Join(dir, "push.sh"))
		cmd.Env = append(slices.Clip(base), "JOB_COMPLETION_INDEX="+strconv.Itoa(k), "PUSHGATEWAY_URL="+gw.URL, "FLEET=aws-prod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("push.sh index %d: %v\n%s", k, err, out)
		}
	}
	select {
	case got := <-pushed:
		if want := "PUT /metrics/job/corsaudit/fleet/aws-prod\n" + string(prom); got != want {
			t.Errorf("pushed:\n%s\nwant:\n%s", got, want)
		}
	case <-time.After(time.Second):
		t.Fatal("nothing pushed")
	}
	if len(pushed) != 0 {
		t.Errorf("%d more pushes: only the last index pushes", len(pushed))
	}
}

// findings is a report's findings as JSON, for comparison.
func findings(t *testing.T, report []byte) string {
	t.Helper()
	var r struct {
		Findings json.RawMessage `json:"findings"`
		Summary  json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatalf("report: %v\n%s", err, report)
	}
	return string(r.Findings) + "\n" + string(r.Summary)
}
