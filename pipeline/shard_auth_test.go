package pipeline

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
