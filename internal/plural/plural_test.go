package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		desc string
		n    int
		noun string
		want string
	}{
		{"zero is plural", 0, "target", "0 targets"},
		{"one is singular", 1, "target", "1 target"},
		{"two is plural", 2, "instance", "2 instances"},
		{"minus one is singular", -1, "probe", "-1 probe"},
		{"ch takes es", 2, "fetch", "2 fetches"},
		{"one fetch", 1, "fetch", "1 fetch"},
		{"s takes es", 3, "status", "3 statuses"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("%s: Count(%d, %q) = %q, want %q", tc.desc, tc.n, tc.noun, got, tc.want)
		}
	}
	if got := Noun(1, "probe") + "/" + Noun(5, "probe"); got != "probe/probes" {
		t.Errorf("Noun: %q, want probe/probes", got)
	}
}

func TestVerb(t *testing.T) {
	for _, tc := range []struct {
		desc string
		n    int
		want string
	}{
		{"one instance sends", 1, "sends"},
		{"two instances send", 2, "send"},
		{"zero instances send", 0, "send"},
	} {
		if got := Verb(tc.n, "send"); got != tc.want {
			t.Errorf("%s: Verb(%d, send) = %q, want %q", tc.desc, tc.n, got, tc.want)
		}
	}
}
