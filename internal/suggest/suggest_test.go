package suggest

import "testing"

func TestClosest(t *testing.T) {
	for _, tc := range []struct {
		desc, word string
		known      []string
		want       string
	}{
		{"one letter more", "instances", []string{"instance", "instance-header", "origin"}, "instance"},
		{"underscore left out", "FAIL_ON", []string{"FAILON", "TIMEOUT"}, "FAILON"},
		{"two letters swapped is one edit", "tiemout", []string{"timeout", "deadline"}, "timeout"},
		{"too far", "colour", []string{"format", "output"}, ""},
		{"the closest of two", "orgin", []string{"origins", "origin"}, "origin"},
	} {
		if got := Closest(tc.word, tc.known); got != tc.want {
			t.Errorf("%s: Closest(%q) = %q, want %q", tc.desc, tc.word, got, tc.want)
		}
	}
}
