package cors

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"", "GET", "GET, PUT", "GET,,PUT", "PUT, ", "PUT DELETE", "PUT;", "*", " \tX-A ,X-B\t", `"a,b"`, "X-\xe9", ",,,"} {
		f.Add(s, "PUT")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		items, ok := ParseList([]string{a, b})
		if !ok {
			if items != nil {
				t.Fatalf("ParseList(%q, %q) failed but returned %q", a, b, items)
			}
			return
		}
		for _, it := range items {
			if !IsToken(it) {
				t.Fatalf("ParseList(%q, %q) returned non-token %q", a, b, it)
			}
		}
		again, ok := ParseList([]string{strings.Join(items, ", ")})
		if !ok || strings.Join(again, ",") != strings.Join(items, ",") {
			t.Fatalf("re-parsing %q gave %q, %v", items, again, ok)
		}
	})
}

func FuzzMaxAge(f *testing.F) {
	for _, s := range []string{"", "0", "5", "600", "7200", "7201", "-1", "+5", "abc", "1.5", "99999999", "99999999999999999999", " 60 ", "-0", "--1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, b := range Browsers {
			d, _ := maxAge(b, []string{v})
			if d < 0 {
				t.Fatalf("MaxAge(%s, %q) = %v < 0", b, v, d)
			}
			if c := maxAgeCap(b); c > 0 && d > c {
				t.Fatalf("MaxAge(%s, %q) = %v above the cap %v", b, v, d, c)
			}
		}
		if allDigits(v) && len(v) < 5 {
			n := saturatingDecimal(v)
			want := time.Duration(n) * time.Second
			if want > 2*time.Hour {
				want = 2 * time.Hour
			}
			if d, _ := maxAge(Chromium, []string{v}); d != want {
				t.Fatalf("MaxAge(chromium, %q) = %v, want %v", v, d, want)
			}
		}
	})
}

func FuzzOrigin(f *testing.F) {
	for _, s := range []string{"https://a.example", "http://A.example:80/x", "http://[::1]:8080", "null", "**", `"*"`, "", "127.0.0.1:8000",
		"http://127.0.0.1:8000\xe9", "foo:bar", "http://", "http://a.example:99999", "https://user@a.example/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acaoValueValid(s)
		out, ok := serializeOrigin(s)
		if !ok {
			return
		}
		if again, ok := serializeOrigin(out); !ok || again != out {
			t.Fatalf("serializeOrigin(%q) = %q, which serializes to %q, %v", s, out, again, ok)
		}
		if !originMatches(out, out) {
			t.Fatalf("originMatches(%q, itself) = false", out)
		}
		if out != "null" && !acaoValueValid(out) {
			t.Fatalf("serialized origin %q is not a valid ACAO value", out)
		}
		f := corsCheck(http.Header{ACAO: {out}}, out, false)
		if f != nil {
			t.Fatalf("corsCheck with ACAO %q for the same origin failed: %+v", out, f)
		}
	})
}

func FuzzSafelistedRequestHeader(f *testing.F) {
	for _, s := range [][2]string{{"Accept", "application/json"}, {"Accept", `a"b`}, {"Accept-Language", "en-US,en;q=0.9"},
		{"Content-Language", "de/CH"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Type", `text/plain; charset="x"`},
		{"Range", "bytes=0-99"}, {"Range", "bytes=-5"}, {"Range", "bytes=5-2"}, {"DPR", "2.5"}, {"Save-Data", "on"}, {"X-Foo", "1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, b := range Browsers {
			ok := isSafelistedFor(b, name, value)
			if ok && len(value) > maxSafelistedValueLen {
				t.Fatalf("%s: %s of %d bytes is safelisted", b, name, len(value))
			}
			// Chromium safelists the most, with one exception the
			// conformance suite shows ("Range unit in upper case"): WebKit
			// compares the Range unit case-insensitively, Chromium does not.
			webkitRange := b == Webkit && strings.EqualFold(name, "range") && isSafelistedFor(Chromium, name, strings.ToLower(value))
			if ok && !isSafelistedFor(Chromium, name, value) && !webkitRange {
				t.Fatalf("%s safelists %s: %q but Chromium does not", b, name, value)
			}
		}
		if isSafelistedRequestHeader(name, value) {
			switch strings.ToLower(name) {
			case "accept", "content-type":
				if hasUnsafeByte(value) {
					t.Fatalf("%s: %q with an unsafe byte is safelisted", name, value)
				}
			case "range":
				if !strings.HasPrefix(value, "bytes=") || strings.Contains(value, ",") {
					t.Fatalf("range %q is safelisted", value)
				}
			}
		}
		p := PlanPreflight(Request{Origin: "https://a.example", Method: "GET", Headers: []Header{{Name: name, Value: value}}})
		if p.Needed && p.Headers == "" {
			t.Fatalf("preflight for GET with %s: %q carries no header names", name, value)
		}
	})
}

func FuzzMIMEEssence(f *testing.F) {
	for _, s := range []string{"text/plain", "TEXT/Plain; charset=utf-8", "multipart/form-data; boundary=x", "text", "/", "text/", " text/plain ",
		"text/plain, application/json", "a/b;c", "\ttext/plain\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		essence, ok := mimeEssence(s)
		if !ok {
			return
		}
		if essence != strings.ToLower(essence) || strings.Count(essence, "/") != 1 {
			t.Fatalf("mimeEssence(%q) = %q", s, essence)
		}
		if again, ok := mimeEssence(essence); !ok || again != essence {
			t.Fatalf("essence %q re-parses to %q, %v", essence, again, ok)
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	f.Add("PUT", "X-A", "1", 204, origin, "PUT", "x-a", "600", 200, "*", false)
	f.Add("GET", "Authorization", "x", 200, origin, "*", "*", "-1", 302, origin, false)
	f.Add("patch", "Content-Type", "application/json", 301, "*", "PATCH", "a b", "abc", 200, "null", true)
	f.Fuzz(func(t *testing.T, method, hname, hvalue string, pStatus int, pACAO, acam, acah, acma string, aStatus int, aACAO string, creds bool) {
		r := Request{Origin: origin, Method: method, Headers: []Header{{Name: hname, Value: hvalue}}, Credentials: creds}
		pre := rsp(pStatus, ACAO, pACAO, ACAM, acam, ACAH, acah, ACMA, acma, ACAC, "true")
		act := rsp(aStatus, ACAO, aACAO, ACAC, "true")
		for _, b := range Browsers {
			v := Evaluate(b, r, pre, act)
			if v.Allowed == (v.Reason != "") || v.Allowed == (v.Stage != "") {
				t.Fatalf("%s: inconsistent verdict %+v", b, v)
			}
			if !v.Allowed && v.Message == "" {
				t.Fatalf("%s: blocked without message: %+v", b, v)
			}
			if v.CacheLifetime < 0 || !v.Allowed && v.CacheLifetime != 0 {
				t.Fatalf("%s: cache lifetime %v in %+v", b, v.CacheLifetime, v)
			}
			if b == Spec && v.SpecNote != "" {
				t.Fatalf("spec verdict has a SpecNote: %q", v.SpecNote)
			}
		}
	})
}
