package cors

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestMaxAge(t *testing.T) {
	tests := []struct {
		desc    string
		browser Browser
		values  []string
		want    time.Duration
		note    string // substring of the note; "" means no note
	}{
		{desc: "absent", browser: Chromium, values: nil, want: 5 * time.Second, note: "default 5s"},
		{desc: "600", browser: Chromium, values: []string{"600"}, want: 600 * time.Second},
		{desc: "padded", browser: Chromium, values: []string{" 600 "}, want: 600 * time.Second},
		{desc: "zero", browser: Chromium, values: []string{"0"}, want: 0},
		{desc: "exactly the cap", browser: Chromium, values: []string{"7200"}, want: 2 * time.Hour},
		{desc: "capped", browser: Chromium, values: []string{"99999999"}, want: 2 * time.Hour, note: "capped at 2h0m0s by chromium"},
		{desc: "negative is not cached", browser: Chromium, values: []string{"-1"}, want: 0, note: "negative"},
		{desc: "plus sign", browser: Chromium, values: []string{"+60"}, want: 60 * time.Second},
		{desc: "abc", browser: Chromium, values: []string{"abc"}, want: 5 * time.Second, note: "not a number"},
		{desc: "fraction", browser: Chromium, values: []string{"1.5"}, want: 5 * time.Second, note: "not a number"},
		{desc: "overflow is invalid", browser: Chromium, values: []string{"99999999999999999999"}, want: 5 * time.Second, note: "not a number"},
		{desc: "sent twice", browser: Chromium, values: []string{"600", "600"}, want: 5 * time.Second, note: `"600, 600"`},
		{desc: "empty", browser: Chromium, values: []string{""}, want: 5 * time.Second, note: "not a number"},
		{desc: "Firefox cap", browser: Firefox, values: []string{"99999999"}, want: 24 * time.Hour, note: "capped"},
		{desc: "Firefox negative", browser: Firefox, values: []string{"-1"}, want: 0, note: "does not cache"},
		{desc: "Firefox abc", browser: Firefox, values: []string{"abc"}, want: 0, note: "does not cache"},
		{desc: "Firefox absent", browser: Firefox, want: 5 * time.Second, note: "default 5s"},
		{desc: "WebKit cap", browser: Webkit, values: []string{"99999999"}, want: 10 * time.Minute, note: "capped"},
		{desc: "WebKit negative", browser: Webkit, values: []string{"-1"}, want: 0, note: "WebKit does not cache"},
		{desc: "WebKit garbage", browser: Webkit, values: []string{"abc"}, want: 5 * time.Second, note: "not a number"},
		{desc: "spec has no cap", browser: Spec, values: []string{"99999999"}, want: 99999999 * time.Second},
		{desc: "spec saturates", browser: Spec, values: []string{"999999999999999999999999"}, want: time.Duration(math.MaxInt64)},
		{desc: "spec negative is invalid", browser: Spec, values: []string{"-1"}, want: 5 * time.Second, note: "not a number"},
		{desc: "spec abc", browser: Spec, values: []string{"abc"}, want: 5 * time.Second, note: "not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, note := maxAge(tc.browser, tc.values)
			if got != tc.want {
				t.Errorf("MaxAge(%s, %q) = %v, want %v", tc.browser, tc.values, got, tc.want)
			}
			if tc.note == "" && note != "" || !strings.Contains(note, tc.note) {
				t.Errorf("note = %q, want it to contain %q", note, tc.note)
			}
		})
	}
}

func TestMaxAgeInVerdict(t *testing.T) {
	tests := []struct {
		desc    string
		browser Browser
		acma    string
		want    time.Duration
	}{
		{desc: "Chromium 600", browser: Chromium, acma: "600", want: 600 * time.Second},
		{desc: "Chromium abc", browser: Chromium, acma: "abc", want: 5 * time.Second},
		{desc: "Chromium -1", browser: Chromium, acma: "-1", want: 0},
		{desc: "WebKit 3600", browser: Webkit, acma: "3600", want: 10 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			pre := rsp(204, ACAO, origin, ACAM, "PUT", ACMA, tc.acma)
			v := Evaluate(tc.browser, Request{Origin: origin, Method: "PUT"}, pre, nil)
			if !v.Allowed || v.CacheLifetime != tc.want {
				t.Errorf("Evaluate: allowed %v, CacheLifetime %v; want allowed, %v", v.Allowed, v.CacheLifetime, tc.want)
			}
		})
	}
}
