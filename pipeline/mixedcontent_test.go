package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestMixedContentWarning(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		url     string
		origins []string
		want    string // "" means no warning; otherwise a part of it
	}{
		{"http URL, one https origin", "http://api.example.com/v1", []string{"http://a.example.com", "https://b.example.com"},
			"from a page on https://b.example.com (mixed content"},
		{"https URL", "https://api.example.com/v1", []string{"https://b.example.com"}, ""},
		{"http URL, http origins only", "http://api.example.com/v1", []string{"http://a.example.com"}, ""},
		{"http loopback URL (potentially trustworthy)", "http://127.0.0.1:8080/v1", []string{"https://b.example.com"}, ""},
	} {
		got := MixedContentWarning("shop", tc.url, tc.origins)
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s: warning %q, want none", tc.desc, got)
		case tc.want != "" && (!strings.Contains(got, tc.want) || !strings.Contains(got, "target shop")):
			t.Errorf("%s: warning %q, want it to name target shop and contain %q", tc.desc, got, tc.want)
		}
	}
}

// TestRunWarnsMixedContentAndStillProbes: the test fleet's public URL is
// http:// while its policy origin is https://: the run logs the warning
// once and still probes every instance.
func TestRunWarnsMixedContentAndStillProbes(t *testing.T) {
	var log bytes.Buffer
	rep, err := Audit(context.Background(), mustBuild(t, testConfig(t)), Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "mixed content"); n != 1 {
		t.Errorf("log mentions mixed content %d times, want once:\n%s", n, log.String())
	}
	if rep.Summary.Probed != 3 || rep.Summary.Requests == 0 {
		t.Errorf("summary %+v: want 3 instances probed and requests sent despite the warning", rep.Summary)
	}
}
