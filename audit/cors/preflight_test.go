package cors

import (
	"strings"
	"testing"
)

func hd(name, value string) Header { return Header{Name: name, Value: value} }

func TestPlanPreflight(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	tests := []struct {
		desc    string
		method  string
		headers []Header
		needed  bool
		acrm    string
		acrh    string
	}{
		{desc: "GET without headers", method: "GET"},
		{desc: "lower-case get is normalized", method: "get"},
		{desc: "HEAD", method: "HEAD"},
		{desc: "POST text/plain", method: "POST", headers: []Header{hd("Content-Type", "text/plain")}},
		{desc: "PUT", method: "PUT", needed: true, acrm: "PUT"},
		{desc: "put normalized to PUT", method: "put", needed: true, acrm: "PUT"},
		{desc: "patch kept as is", method: "patch", needed: true, acrm: "patch"},
		{desc: "delete normalized", method: "delete", needed: true, acrm: "DELETE"},
		{desc: "custom method", method: "FOO", needed: true, acrm: "FOO"},
		{desc: "Accept json", method: "GET", headers: []Header{hd("Accept", "application/json")}},
		{desc: "Accept with quote", method: "GET", headers: []Header{hd("Accept", `text/html"`)}, needed: true, acrm: "GET", acrh: "accept"},
		{desc: "Accept with brace", method: "GET", headers: []Header{hd("Accept", "text/{html}")}, needed: true, acrm: "GET", acrh: "accept"},
		{desc: "Accept with colon", method: "GET", headers: []Header{hd("Accept", "a:b")}, needed: true, acrm: "GET", acrh: "accept"},
		{desc: "Accept of 128 bytes", method: "GET", headers: []Header{hd("Accept", long("text/", 128))}},
		{desc: "Accept of 129 bytes", method: "GET", headers: []Header{hd("Accept", long("text/", 129))}, needed: true, acrm: "GET", acrh: "accept"},
		{desc: "Accept-Language list", method: "GET", headers: []Header{hd("Accept-Language", "en-US,en;q=0.9")}},
		{desc: "Accept-Language *", method: "GET", headers: []Header{hd("Accept-Language", "de-CH, *")}},
		{desc: "Accept-Language underscore", method: "GET", headers: []Header{hd("Accept-Language", "en_US")}, needed: true, acrm: "GET", acrh: "accept-language"},
		{desc: "Accept-Language bang", method: "GET", headers: []Header{hd("Accept-Language", "en!")}, needed: true, acrm: "GET", acrh: "accept-language"},
		{desc: "Content-Language slash", method: "GET", headers: []Header{hd("Content-Language", "de/CH")}, needed: true, acrm: "GET", acrh: "content-language"},
		{desc: "Content-Type form", method: "POST", headers: []Header{hd("Content-Type", "application/x-www-form-urlencoded")}},
		{desc: "Content-Type multipart with boundary", method: "POST", headers: []Header{hd("Content-Type", "multipart/form-data; boundary=x")}},
		{desc: "Content-Type mixed case", method: "POST", headers: []Header{hd("Content-Type", "TEXT/Plain")}},
		{desc: "Content-Type charset", method: "POST", headers: []Header{hd("Content-Type", "text/plain; charset=utf-8")}},
		{desc: "Content-Type padded", method: "POST", headers: []Header{hd("Content-Type", "  text/plain  ")}},
		{desc: "Content-Type quoted charset", method: "POST", headers: []Header{hd("Content-Type", `text/plain; charset="utf-8"`)}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type json", method: "POST", headers: []Header{hd("Content-Type", "application/json")}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type list", method: "POST", headers: []Header{hd("Content-Type", "text/plain, application/json")}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type parenthesis", method: "POST", headers: []Header{hd("Content-Type", "text/plain;a=b(")}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type no subtype", method: "POST", headers: []Header{hd("Content-Type", "text")}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type empty subtype", method: "POST", headers: []Header{hd("Content-Type", "text/;a=b")}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Content-Type 129 bytes", method: "POST", headers: []Header{hd("Content-Type", long("text/plain; a=", 129))}, needed: true, acrm: "POST", acrh: "content-type"},
		{desc: "Range closed", method: "GET", headers: []Header{hd("Range", "bytes=0-99")}},
		{desc: "Range open", method: "GET", headers: []Header{hd("Range", "bytes=5-")}},
		{desc: "Range suffix", method: "GET", headers: []Header{hd("Range", "bytes=-5")}, needed: true, acrm: "GET", acrh: "range"},
		{desc: "Range two ranges", method: "GET", headers: []Header{hd("Range", "bytes=0-1,3-4")}, needed: true, acrm: "GET", acrh: "range"},
		{desc: "Range start after end", method: "GET", headers: []Header{hd("Range", "bytes=5-2")}, needed: true, acrm: "GET", acrh: "range"},
		{desc: "Range huge numbers in order", method: "GET", headers: []Header{hd("Range", "bytes=99999999999999999999-999999999999999999999")}},
		{desc: "Range other unit", method: "GET", headers: []Header{hd("Range", "items=0-1")}, needed: true, acrm: "GET", acrh: "range"},
		{desc: "Range with space", method: "GET", headers: []Header{hd("Range", "bytes= 0-1")}, needed: true, acrm: "GET", acrh: "range"},
		{desc: "custom header", method: "GET", headers: []Header{hd("X-Custom", "1")}, needed: true, acrm: "GET", acrh: "x-custom"},
		{desc: "Authorization", method: "GET", headers: []Header{hd("Authorization", "Bearer x")}, needed: true, acrm: "GET", acrh: "authorization"},
		{desc: "safelisted headers under 1024 bytes", method: "GET", headers: []Header{
			hd("Accept", long("a/", 128)), hd("Accept-Language", long("en", 128)), hd("Content-Language", long("de", 128)), hd("Content-Type", "text/plain")}},
		{desc: "safelisted headers over 1024 bytes all become unsafe", method: "POST", headers: []Header{
			hd("Accept", long("a/", 128)), hd("Accept-Language", long("en", 128)), hd("Content-Language", long("de", 128)),
			hd("Range", "bytes=0-1"), hd("Content-Type", "text/plain"), hd("X-A", strings.Repeat("a", 700))},
			needed: true, acrm: "POST", acrh: "x-a"},
		{desc: "total over 1024 from safelisted values", method: "GET", headers: []Header{
			hd("Accept", long("a/", 128)), hd("Accept-Language", long("en", 128)), hd("Content-Language", long("de", 128)),
			hd("Intervention", strings.Repeat("i", 128)), hd("DPR", "2"), hd("Width", strings.Repeat("1", 120)), hd("Viewport-Width", strings.Repeat("1", 120)), hd("RTT", strings.Repeat("1", 120)),
			hd("Downlink", "1"), hd("Device-Memory", "1"), hd("ECT", "4g"), hd("Save-Data", "on"), hd("Content-Type", long("text/plain;a=", 128)),
			hd("Range", "bytes=0-"+strings.Repeat("9", 100))},
			needed: true, acrm: "GET", acrh: "accept,accept-language,content-language,content-type,device-memory,downlink,dpr,ect,intervention,range,rtt,save-data,viewport-width,width"},
		{desc: "Accept twice combines past 128 bytes", method: "GET", headers: []Header{hd("Accept", long("a/", 100)), hd("Accept", long("b/", 100))},
			needed: true, acrm: "GET", acrh: "accept"},
		{desc: "Accept-Language twice stays safelisted", method: "GET", headers: []Header{hd("Accept-Language", "en"), hd("Accept-Language", "de")}},
		{desc: "unsafe names sorted lower-cased de-duplicated", method: "GET", headers: []Header{
			hd("X-Zeta", "1"), hd("X-Alpha", "1"), hd("Content-Type", "application/json"), hd("x-zeta", "2")},
			needed: true, acrm: "GET", acrh: "content-type,x-alpha,x-zeta"},
		{desc: "mixed-case name", method: "GET", headers: []Header{hd("X-MiXeD-CaSe", "1")}, needed: true, acrm: "GET", acrh: "x-mixed-case"},
		{desc: "forbidden headers are dropped", method: "GET", headers: []Header{hd("Cookie", "a=b"), hd("Sec-Foo", "1"), hd("Proxy-X", "1"), hd("Origin", "x")}},
		{desc: "X-HTTP-Method-Override with a forbidden method is dropped", method: "GET", headers: []Header{hd("X-HTTP-Method-Override", "TRACE")}},
		{desc: "X-HTTP-Method-Override with PUT is unsafe", method: "GET", headers: []Header{hd("X-HTTP-Method-Override", "PUT")}, needed: true, acrm: "GET", acrh: "x-http-method-override"},
		{desc: "Chromium safelists DPR", method: "GET", headers: []Header{hd("DPR", "2.5")}},
		{desc: "Chromium DPR must be a number", method: "GET", headers: []Header{hd("DPR", "2x")}, needed: true, acrm: "GET", acrh: "dpr"},
		{desc: "Chromium Save-Data on", method: "GET", headers: []Header{hd("Save-Data", "ON")}},
		{desc: "Chromium Save-Data off is unsafe", method: "GET", headers: []Header{hd("Save-Data", "off")}, needed: true, acrm: "GET", acrh: "save-data"},
		{desc: "Chromium ECT 5g is unsafe", method: "GET", headers: []Header{hd("ECT", "5g")}, needed: true, acrm: "GET", acrh: "ect"},
		{desc: "PUT with unsafe headers", method: "PUT", headers: []Header{hd("X-B", "1"), hd("Accept", "x")}, needed: true, acrm: "PUT", acrh: "x-b"},
		{desc: "forbidden method sends nothing", method: "TRACE"},
		{desc: "malformed method sends nothing", method: "G ET"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := PlanPreflight(Request{Origin: "https://a.example", Method: tc.method, Headers: tc.headers})
			if p.Needed != tc.needed || p.Method != tc.acrm && tc.needed || p.Headers != tc.acrh && tc.needed {
				t.Errorf("PlanPreflight = %+v, want needed=%v method=%q headers=%q", p, tc.needed, tc.acrm, tc.acrh)
			}
			if p.Why == "" {
				t.Error("Why is empty")
			}
		})
	}
}

func TestPlanPreflightHeadersPerBrowser(t *testing.T) {
	nine := make([]Header, 9)
	for i := range nine {
		nine[i] = hd("Accept", strings.Repeat("a", 120))
	}
	twice := []Header{hd("X-Custom", "1"), hd("X-Custom", "2")}
	tests := []struct {
		desc    string
		browser Browser
		headers []Header
		needed  bool
		acrh    string
	}{
		{desc: "spec: nine Accept values over 1024 bytes", browser: Spec, headers: nine, needed: true, acrh: "accept"},
		{desc: "Firefox: no 1024-byte total", browser: Firefox, headers: nine},
		{desc: "Firefox lists a repeated name twice", browser: Firefox, headers: twice, needed: true, acrh: "x-custom,x-custom"},
		{desc: "Chromium lists a repeated name once", browser: Chromium, headers: twice, needed: true, acrh: "x-custom"},
		{desc: "WebKit lists a repeated name once", browser: Webkit, headers: twice, needed: true, acrh: "x-custom"},
		{desc: "spec lists a repeated name once", browser: Spec, headers: twice, needed: true, acrh: "x-custom"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := PlanPreflightFor(tc.browser, Request{Origin: "https://a.example", Method: "GET", Headers: tc.headers})
			if p.Needed != tc.needed || p.Headers != tc.acrh && tc.needed {
				t.Errorf("PlanPreflightFor(%s) = needed %v, ACRH %q; want %v, %q", tc.browser, p.Needed, p.Headers, tc.needed, tc.acrh)
			}
		})
	}
}

func TestPreflightsSent(t *testing.T) {
	ok := Verdict{Allowed: true, Preflight: true, CacheLifetime: defaultMaxAge}
	tests := []struct {
		desc    string
		browser Browser
		v       Verdict
		mode    string
		want    int
	}{
		{desc: "no preflight", browser: Chromium, v: Verdict{Allowed: true}, want: 0},
		{desc: "cached", browser: Chromium, v: ok, want: 1},
		{desc: "not cached (lifetime 0)", browser: Webkit, v: Verdict{Allowed: true, Preflight: true}, want: 3},
		{desc: "blocked is never cached", browser: Spec, v: Verdict{Preflight: true, CacheLifetime: defaultMaxAge}, want: 3},
		{desc: "Chromium no-store bypasses", browser: Chromium, v: ok, mode: "no-store", want: 3},
		{desc: "Chromium no-cache bypasses", browser: Chromium, v: ok, mode: "no-cache", want: 3},
		{desc: "Chromium force-cache uses the cache", browser: Chromium, v: ok, mode: "force-cache", want: 1},
		{desc: "Firefox reload bypasses", browser: Firefox, v: ok, mode: "reload", want: 3},
		{desc: "Firefox no-cache uses the cache", browser: Firefox, v: ok, mode: "no-cache", want: 1},
		{desc: "WebKit no-store uses the cache", browser: Webkit, v: ok, mode: "no-store", want: 1},
		{desc: "spec reload uses the cache", browser: Spec, v: ok, mode: "reload", want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := PreflightsSent(tc.browser, tc.v, tc.mode, 3); got != tc.want {
				t.Errorf("PreflightsSent(%s, %+v, %q, 3) = %d, want %d", tc.browser, tc.v, tc.mode, got, tc.want)
			}
		})
	}
}

func TestPlanPreflightForBrowser(t *testing.T) {
	tests := []struct {
		desc    string
		browser Browser
		headers []Header
		needed  bool
	}{
		{desc: "Chromium safelists DPR", browser: Chromium, headers: []Header{hd("DPR", "2")}},
		{desc: "spec does not safelist DPR", browser: Spec, headers: []Header{hd("DPR", "2")}, needed: true},
		{desc: "Firefox does not safelist Width", browser: Firefox, headers: []Header{hd("Width", "2")}, needed: true},
		{desc: "spec checks repeated Accept values one by one", browser: Spec, headers: []Header{hd("Accept", strings.Repeat("a", 100)), hd("Accept", strings.Repeat("b", 100))}},
		{desc: "Chromium combines repeated Accept values", browser: Chromium, headers: []Header{hd("Accept", strings.Repeat("a", 100)), hd("Accept", strings.Repeat("b", 100))}, needed: true},
		{desc: "Chromium wants a lower-case Range unit", browser: Chromium, headers: []Header{hd("Range", "BYTES=0-1")}, needed: true},
		{desc: "WebKit accepts an upper-case Range unit", browser: Webkit, headers: []Header{hd("Range", "BYTES=0-1")}},
		{desc: "Firefox checks repeated Accept values one by one", browser: Firefox, headers: []Header{hd("Accept", strings.Repeat("a", 100)), hd("Accept", strings.Repeat("b", 100))}},
		{desc: "WebKit combines repeated Accept values", browser: Webkit, headers: []Header{hd("Accept", strings.Repeat("a", 100)), hd("Accept", strings.Repeat("b", 100))}, needed: true},
		{desc: "spec wants a lower-case Range unit", browser: Spec, headers: []Header{hd("Range", "BYTES=0-1")}, needed: true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := PlanPreflightFor(tc.browser, Request{Origin: "https://a.example", Method: "GET", Headers: tc.headers})
			if p.Needed != tc.needed {
				t.Errorf("PlanPreflightFor(%s).Needed = %v, want %v (%s)", tc.browser, p.Needed, tc.needed, p.Why)
			}
		})
	}
}

func TestIsSafelistedRequestHeader(t *testing.T) {
	tests := []struct {
		desc, name, value string
		want              bool
	}{
		{"accept any case name", "ACCEPT", "*/*", true},
		{"accept with DEL", "Accept", "a\x7fb", false},
		{"accept with tab", "Accept", "a\tb", true},
		{"accept with NUL", "Accept", "a\x00b", false},
		{"content-type empty", "Content-Type", "", false},
		{"content-type text/plain;", "Content-Type", "text/plain;", true},
		{"content-type text /plain", "Content-Type", "text /plain", false},
		{"content-language empty", "Content-Language", "", true},
		{"range empty", "Range", "", false},
		{"range bytes=", "Range", "bytes=", false},
		{"range equal bounds", "Range", "bytes=7-7", true},
		{"DPR is not in the standard's list", "DPR", "2", false},
		{"x-foo", "X-Foo", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := isSafelistedRequestHeader(tc.name, tc.value); got != tc.want {
				t.Errorf("isSafelistedRequestHeader(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestUnsafeRequestHeaderNames(t *testing.T) {
	got := strings.Join(unsafeRequestHeaderNames([]Header{hd("X-B", "1"), hd("Cookie", "x"), hd("x-a", "1"), hd("X-A", "2"), hd("Accept", "ok")}), ",")
	if got != "x-a,x-b" {
		t.Errorf("unsafeRequestHeaderNames = %q, want %q", got, "x-a,x-b")
	}
}

func TestNormalizeMethod(t *testing.T) {
	tests := []struct{ desc, in, want string }{
		{"get", "get", "GET"},
		{"Put", "Put", "PUT"},
		{"options", "options", "OPTIONS"},
		{"patch stays", "patch", "patch"},
		{"custom stays", "fOo", "fOo"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := NormalizeMethod(tc.in); got != tc.want {
				t.Errorf("NormalizeMethod(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if isSafelistedMethod("get") || !isSafelistedMethod("POST") || isSafelistedMethod("PUT") {
		t.Error("isSafelistedMethod must accept exactly GET, HEAD, POST")
	}
}

func TestParseBrowser(t *testing.T) {
	tests := []struct {
		desc, in string
		want     Browser
		wantErr  bool
	}{
		{desc: "empty is chromium", in: "", want: Chromium},
		{desc: "chromium", in: "chromium", want: Chromium},
		{desc: "case-insensitive", in: "Firefox", want: Firefox},
		{desc: "webkit", in: "webkit", want: Webkit},
		{desc: "safari is an alias of webkit", in: " Safari ", want: Webkit},
		{desc: "spec", in: "spec", want: Spec},
		{desc: "unknown", in: "netscape", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := ParseBrowser(tc.in)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "chromium, firefox, webkit, spec, safari (webkit)") || !strings.HasPrefix(err.Error(), "browser: ") {
					t.Errorf("ParseBrowser(%q) error = %v, want one listing the valid names", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseBrowser(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
