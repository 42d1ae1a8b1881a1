package cors

import (
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		desc   string
		values []string
		want   string // items joined by "|"
		ok     bool
	}{
		{desc: "absent", values: nil, want: "", ok: true},
		{desc: "empty value", values: []string{""}, want: "", ok: true},
		{desc: "one", values: []string{"PUT"}, want: "PUT", ok: true},
		{desc: "case kept", values: []string{"put, X-Foo"}, want: "put|X-Foo", ok: true},
		{desc: "OWS trimmed", values: []string{" \tGET ,  PUT\t"}, want: "GET|PUT", ok: true},
		{desc: "empty elements skipped", values: []string{"GET,,PUT"}, want: "GET|PUT", ok: true},
		{desc: "trailing comma", values: []string{"PUT, "}, want: "PUT", ok: true},
		{desc: "several headers", values: []string{"GET", "PUT, DELETE"}, want: "GET|PUT|DELETE", ok: true},
		{desc: "wildcard", values: []string{"*"}, want: "*", ok: true},
		{desc: "space inside", values: []string{"PUT DELETE"}, ok: false},
		{desc: "semicolon", values: []string{"PUT;"}, ok: false},
		{desc: "at sign", values: []string{"X-A, b@d"}, ok: false},
		{desc: "quoted", values: []string{`"PUT"`}, ok: false},
		{desc: "non-ASCII", values: []string{"X-\xe9"}, ok: false},
		{desc: "bad second header", values: []string{"GET", "a b"}, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			items, ok := ParseList(tc.values)
			if ok != tc.ok || ok && strings.Join(items, "|") != tc.want {
				t.Errorf("ParseList(%q) = %q, %v; want %q, %v", tc.values, items, ok, tc.want, tc.ok)
			}
			if !ok && items != nil {
				t.Errorf("items = %q on failure, want nil", items)
			}
		})
	}
}

func TestMIMEEssence(t *testing.T) {
	tests := []struct {
		desc, in, want string
		ok             bool
	}{
		{"plain", "text/plain", "text/plain", true},
		{"case folded", "Text/PLAIN", "text/plain", true},
		{"parameters", "multipart/form-data; boundary=x", "multipart/form-data", true},
		{"whitespace before ;", "text/plain \t; a=b", "text/plain", true},
		{"padded", "\t text/plain \r\n", "text/plain", true},
		{"no slash", "text", "", false},
		{"empty type", "/plain", "", false},
		{"empty subtype", "text/", "", false},
		{"space in type", "te xt/plain", "", false},
		{"comma list", "text/plain, application/json", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, ok := mimeEssence(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("mimeEssence(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSerializeOrigin(t *testing.T) {
	tests := []struct {
		desc, in, want string
		ok             bool
	}{
		{"https", "https://App.Example.com/path?q", "https://app.example.com", true},
		{"default port dropped", "http://a.example:80/", "http://a.example", true},
		{"other port kept", "https://a.example:8443", "https://a.example:8443", true},
		{"IPv6", "http://[::1]:8080/", "http://[::1]:8080", true},
		{"null", "null", "null", true},
		{"no scheme", "a.example", "", false},
		{"file", "file:///etc/passwd", "", false},
		{"data", "data:text/plain,x", "", false},
		{"bad port", "http://a.example:99999", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, ok := serializeOrigin(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("serializeOrigin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	if !originMatches(" https://a.example\t", "https://a.example") || originMatches("https://A.example", "https://a.example") {
		t.Error("originMatches must trim and compare byte for byte")
	}
}

func TestIsCORSSafelistedResponseHeader(t *testing.T) {
	for _, n := range []string{"Cache-Control", "content-language", "Content-Length", "CONTENT-TYPE", "Expires", "Last-Modified", "Pragma"} {
		if !isCORSSafelistedResponseHeader(n) {
			t.Errorf("isCORSSafelistedResponseHeader(%q) = false", n)
		}
	}
	for _, n := range []string{"ETag", "Set-Cookie", "X-Foo", "Access-Control-Allow-Origin"} {
		if isCORSSafelistedResponseHeader(n) {
			t.Errorf("isCORSSafelistedResponseHeader(%q) = true", n)
		}
	}
}
