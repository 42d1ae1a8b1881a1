package pipeline

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/corsaudit/corsaudit/config"
)

// TestShardSendsTheTargetsCredential: a shard takes the target's auth
// from its own config (the secret read where it runs), so a sharded audit
// of a logged-in endpoint sends the credential where a single run does,
// and neither the inventory nor the shard file holds the secret.
func TestShardSendsTheTargetsCredential(t *testing.T) {
	const secret = "Bearer s3cr3t-for-shards"
	t.Setenv("CORSAUDIT_TEST_TOKEN", secret)
	var mu sync.Mutex
	got := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Vary", "Origin")
		if r.Method == http.MethodGet && r.Header.Get("Authorization") == secret {
			mu.Lock()
			got++
			mu.Unlock()
		}
	}))
	defer srv.Close()
	c := config.Default()
	c.Analyses = []string{"drift"}
	c.Targets = []config.Target{{Name: "api", URL: "http://api.example.com/v1",
		Discover: map[string]map[string]any{"static": {"instances": []any{map[string]any{"id": "i1", "addr": srv.Listener.Addr().String()}}}},
		Direct:   config.Direct{Scheme: "http"}, LB: config.LB{Disabled: true},
		Auth:   config.Auth{Header: "Authorization", ValueFromEnv: "CORSAUDIT_TEST_TOKEN"},
		Policy: config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET"}, Credentials: true}}}
	inv := inventoryOf(t, &c)
	sh := runShard(t, inv, 0, 1, nil)
	if got == 0 {
		t.Error("the shard never sent the target's credential on its credentialed GET")
	}
	for what, v := range map[string]any{"inventory": inv, "shard": sh} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "s3cr3t") {
			t.Errorf("the %s file holds the secret", what)
		}
	}
}

// TestMergeTrustsNoPlaceholderFromAShardFile: a shard file whose request
// records hold shell expressions and list them in placeholders does not
// make merge print a curl line that expands them: only the credential the
// config names expands ($CORSAUDIT_TEST_TOKEN); everything else reads back
// as the bytes of the file and runs nothing.
func TestMergeTrustsNoPlaceholderFromAShardFile(t *testing.T) {
	t.Setenv("CORSAUDIT_TEST_TOKEN", "Bearer s3cr3t-for-shards")
	var addrs []any
	for i := range 3 {
		drops := i == 2 // i3 drops CORS on its answers: verdict drift, reproduced by the credentialed GET
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !drops || r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
			w.Header().Set("Vary", "Origin")
		}))
		defer srv.Close()
		addrs = append(addrs, map[string]any{"id": fmt.Sprintf("i%d", i+1), "addr": srv.Listener.Addr().String()})
	}
	c := config.Default()
	c.Analyses = []string{"drift"}
	c.Targets = []config.Target{{Name: "api", URL: "http://api.example.com/v1",
		Discover: map[string]map[string]any{"static": {"instances": addrs}},
		Direct:   config.Direct{Scheme: "http"}, LB: config.LB{Disabled: true},
		Auth:   config.Auth{Header: "Authorization", ValueFromEnv: "CORSAUDIT_TEST_TOKEN"},
		Policy: config.Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"GET"}, Credentials: true}}}
	inv := inventoryOf(t, &c)
	const pwned = "pwned"
	hostile := map[string]string{ // header -> value, each listed in placeholders
		"X-Run":  "$(touch " + pwned + ")",
		"X-Home": "$HOME",
		"X-File": "$(cat /etc/hostname)",
	}
	for _, tamper := range []bool{false, true} {
		sh := runShard(t, inv, 0, 1, nil)
		if tamper {
			for i, raw := range sh.Shard.Requests {
				var r map[string]any
				if err := json.Unmarshal(raw, &r); err != nil || r == nil {
					continue
				}
				h := r["header"].(map[string]any)
				names := []any{"Authorization"}
				for k, v := range hostile {
					h[k] = []any{v}
					names = append(names, k)
				}
				r["placeholders"] = names
				sh.Shard.Requests[i], _ = json.Marshal(r)
			}
		}
		rep, _, err := MergeShards([]NamedShard{sh})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) == 0 {
			t.Fatal("no finding: the fleet should drift")
		}
		credentialed := 0
		for _, f := range rep.Findings {
			if f.Reproduce == "" {
				continue
			}
			dir := t.TempDir()
			rest, _ := strings.CutPrefix(f.Reproduce, "curl ")
			cmd := exec.Command("/bin/sh", "-c", `printf '%s\n' `+rest)
			cmd.Dir, cmd.Env = dir, []string{"CORSAUDIT_TEST_TOKEN=expanded", "HOME=/home/leaked"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sh: %s: %v", f.Reproduce, err)
			}
			args := strings.Split(string(out), "\n")
			if strings.Contains(f.Reproduce, "Authorization") {
				credentialed++
			}
			if strings.Contains(f.Reproduce, "Authorization") && !slices.Contains(args, "Authorization: expanded") {
				t.Errorf("tampered %v: the config's credential does not expand in\n%s\n%q", tamper, f.Reproduce, args)
			}
			for k, v := range hostile {
				if tamper && !slices.Contains(args, k+": "+v) {
					t.Errorf("%s: %s is not read back as written in\n%s\n%q", f.Kind, k, f.Reproduce, args)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, pwned)); err == nil {
				t.Errorf("pasting\n%s\nran a command", f.Reproduce)
			}
		}
		if credentialed == 0 {
			t.Errorf("tampered %v: no finding is reproduced by the credentialed GET", tamper)
		}
	}
}
