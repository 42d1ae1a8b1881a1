package cors

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const origin = "http://127.0.0.1:8000"

// rsp builds a response from name/value pairs; a name may repeat.
func rsp(status int, kv ...string) *Response {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return &Response{Status: status, Header: h}
}

func TestEvaluateActual(t *testing.T) {
	tests := []struct {
		desc    string
		creds   bool
		actual  *Response
		allowed bool
		reason  Reason
		message string // substring of Verdict.Message
	}{
		{desc: "no ACAO", actual: rsp(200), reason: ReasonACAOMissing,
			message: "No 'Access-Control-Allow-Origin' header is present on the requested resource."},
		{desc: "ACAO *", actual: rsp(200, ACAO, "*"), allowed: true},
		{desc: "ACAO exact", actual: rsp(200, ACAO, origin), allowed: true},
		{desc: "ACAO on a 500", actual: rsp(500, ACAO, "*"), allowed: true},
		{desc: "ACAO other origin", actual: rsp(200, ACAO, "http://example.com"), reason: ReasonACAOMismatch,
			message: "The 'Access-Control-Allow-Origin' header has a value 'http://example.com' that is not equal to the supplied origin. Have the server send the header with a valid value."},
		{desc: "ACAO trailing slash", actual: rsp(200, ACAO, origin+"/"), reason: ReasonACAOMismatch},
		{desc: "ACAO upper-case", actual: rsp(200, ACAO, strings.ToUpper(origin)), reason: ReasonACAOMismatch},
		{desc: "ACAO other port", actual: rsp(200, ACAO, "http://127.0.0.1:1"), reason: ReasonACAOMismatch},
		{desc: "ACAO null", actual: rsp(200, ACAO, "null"), reason: ReasonACAOMismatch, message: "has a value 'null' that"},
		{desc: "ACAO list in one header", actual: rsp(200, ACAO, origin+", "+origin), reason: ReasonACAOMultiple,
			message: "The 'Access-Control-Allow-Origin' header contains multiple values '" + origin + ", " + origin + "', but only one is allowed. Have the server send the header with a valid value."},
		{desc: "ACAO sent twice", actual: rsp(200, ACAO, origin, ACAO, origin), reason: ReasonACAOMultiple, message: "'" + origin + ", " + origin + "'"},
		{desc: "ACAO * sent twice", actual: rsp(200, ACAO, "*", ACAO, "*"), reason: ReasonACAOMultiple, message: "'*, *'"},
		{desc: "ACAO *, *", actual: rsp(200, ACAO, "*, *"), reason: ReasonACAOMultiple},
		{desc: "ACAO * and origin", actual: rsp(200, ACAO, "*", ACAO, origin), reason: ReasonACAOMultiple},
		{desc: "ACAO padded", actual: rsp(200, ACAO, "   "+origin+"   "), allowed: true},
		{desc: "ACAO trailing space", actual: rsp(200, ACAO, origin+" "), allowed: true},
		{desc: "ACAO trailing tab", actual: rsp(200, ACAO, origin+"\t"), allowed: true},
		{desc: "ACAO empty", actual: rsp(200, ACAO, ""), reason: ReasonACAOInvalid,
			message: "The 'Access-Control-Allow-Origin' header contains the invalid value ''. Have the server send the header with a valid value."},
		{desc: "ACAO without scheme", actual: rsp(200, ACAO, "127.0.0.1:8000"), reason: ReasonACAOInvalid},
		{desc: "ACAO **", actual: rsp(200, ACAO, "**"), reason: ReasonACAOInvalid},
		{desc: "ACAO quoted *", actual: rsp(200, ACAO, `"*"`), reason: ReasonACAOInvalid},
		{desc: "ACAO non-ASCII", actual: rsp(200, ACAO, origin+"\xe9"), reason: ReasonACAOInvalid},
		{desc: "ACAO lower-case header name", actual: &Response{Status: 200, Header: http.Header{"access-control-allow-origin": {origin}}}, allowed: true},
		{desc: "credentials, ACAO *", creds: true, actual: rsp(200, ACAO, "*", ACAC, "true"), reason: ReasonWildcardWithCredentials,
			message: "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."},
		{desc: "credentials, no ACAC", creds: true, actual: rsp(200, ACAO, origin), reason: ReasonACACMissing,
			message: "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."},
		{desc: "credentials, ACAC true", creds: true, actual: rsp(200, ACAO, origin, ACAC, "true"), allowed: true},
		{desc: "credentials, ACAC True", creds: true, actual: rsp(200, ACAO, origin, ACAC, "True"), reason: ReasonACACMissing, message: "is 'True' which"},
		{desc: "credentials, ACAC padded", creds: true, actual: rsp(200, ACAO, origin, ACAC, " true "), allowed: true},
		{desc: "credentials, ACAC false", creds: true, actual: rsp(200, ACAO, origin, ACAC, "false"), reason: ReasonACACMissing},
		{desc: "credentials, ACAC twice", creds: true, actual: rsp(200, ACAO, origin, ACAC, "true", ACAC, "true"), reason: ReasonACACMissing, message: "'true, true'"},
		{desc: "credentials, ACAC 1", creds: true, actual: rsp(200, ACAO, origin, ACAC, "1"), reason: ReasonACACMissing},
		{desc: "no credentials, ACAC ignored", actual: rsp(200, ACAO, "*", ACAC, "false"), allowed: true},
	}
	for _, tc := range tests {
		for _, b := range Browsers {
			t.Run(tc.desc+"/"+string(b), func(t *testing.T) {
				r := Request{Origin: origin, Method: "GET", Credentials: tc.creds}
				v := Evaluate(b, r, nil, tc.actual)
				if v.Allowed != tc.allowed || v.Reason != tc.reason {
					t.Fatalf("Evaluate = %+v, want allowed=%v reason=%q", v, tc.allowed, tc.reason)
				}
				if v.Preflight {
					t.Error("Preflight = true for a simple GET")
				}
				// message is Chromium's wording (and the Spec model's);
				// TestEngineWording has Firefox's and WebKit's.
				chromiumWording := b == Chromium || b == Spec
				if !tc.allowed && (v.Stage != StageActual || chromiumWording && !strings.Contains(v.Message, tc.message)) {
					t.Errorf("stage %q message %q, want stage actual and message containing %q", v.Stage, v.Message, tc.message)
				}
				if v.SpecNote != "" {
					t.Errorf("SpecNote = %q, want none: browsers agree with the spec here", v.SpecNote)
				}
			})
		}
	}
}

func TestEvaluatePreflight(t *testing.T) {
	permissive := func(method, headers string, extra ...string) *Response {
		kv := []string{ACAO, origin, ACAC, "true", ACAM, method}
		if headers != "" {
			kv = append(kv, ACAH, headers)
		}
		return rsp(204, append(kv, extra...)...)
	}
	xc := []Header{hd("X-Custom", "1")}
	auth := []Header{hd("Authorization", "Bearer x")}
	tests := []struct {
		desc      string
		browser   Browser // "" means every browser
		method    string
		headers   []Header
		creds     bool
		preflight *Response
		allowed   bool
		reason    Reason
		message   string // exact Verdict.Message when blocked
		specNote  string // substring of SpecNote ("" means none)
	}{
		{desc: "PUT, ACAM PUT", method: "PUT", preflight: permissive("PUT", ""), allowed: true},
		{desc: "PUT, ACAM put", method: "PUT", preflight: permissive("put", ""), reason: ReasonMethodNotAllowed,
			message: "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."},
		{desc: "put normalized, ACAM PUT", method: "put", preflight: permissive("PUT", ""), allowed: true},
		{desc: "patch, ACAM PATCH", method: "patch", preflight: permissive("PATCH", ""), reason: ReasonMethodNotAllowed,
			message: "Method patch is not allowed by Access-Control-Allow-Methods in preflight response."},
		{desc: "patch, ACAM patch", method: "patch", preflight: permissive("patch", ""), allowed: true},
		{desc: "DELETE, ACAM GET, POST", method: "DELETE", preflight: permissive("GET, POST", ""), reason: ReasonMethodNotAllowed},
		{desc: "DELETE, ACAM *", method: "DELETE", preflight: rsp(204, ACAO, origin, ACAM, "*"), allowed: true},
		{desc: "credentials, DELETE, ACAM *", method: "DELETE", creds: true, preflight: rsp(204, ACAO, origin, ACAC, "true", ACAM, "*"), reason: ReasonMethodNotAllowed},
		{desc: "credentials, DELETE, ACAM *, DELETE", method: "DELETE", creds: true, preflight: rsp(204, ACAO, origin, ACAC, "true", ACAM, "*, DELETE"), allowed: true},
		{desc: "ACAM without spaces", method: "DELETE", preflight: permissive("PUT,DELETE", ""), allowed: true},
		{desc: "ACAM GET,,PUT", method: "PUT", preflight: permissive("GET,,PUT", ""), allowed: true},
		{desc: "ACAM trailing comma", method: "PUT", preflight: permissive("PUT, ", ""), allowed: true},
		{desc: "ACAM space-separated", method: "PUT", preflight: permissive("PUT DELETE", ""), reason: ReasonACAMInvalid,
			message: "Cannot parse Access-Control-Allow-Methods response header field in preflight response."},
		{desc: "ACAM semicolon", method: "PUT", preflight: permissive("PUT;", ""), reason: ReasonACAMInvalid},
		{desc: "ACAM empty", method: "PUT", preflight: permissive("", ""), reason: ReasonMethodNotAllowed},
		{desc: "no ACAM", method: "PUT", preflight: rsp(204, ACAO, origin), reason: ReasonMethodNotAllowed},
		{desc: "ACAM in two headers", method: "DELETE", preflight: rsp(204, ACAO, origin, ACAM, "PUT", ACAM, "DELETE"), allowed: true},
		{desc: "custom FOO, ACAM foo", method: "FOO", preflight: permissive("foo", ""), reason: ReasonMethodNotAllowed},
		{desc: "GET custom header, ACAM absent", method: "GET", headers: xc, preflight: rsp(204, ACAO, origin, ACAH, "X-Custom"), allowed: true},
		{desc: "POST json, no ACAM", method: "POST", headers: []Header{hd("Content-Type", "application/json")}, preflight: rsp(204, ACAO, origin, ACAH, "Content-Type"), allowed: true},
		{desc: "ACAH upper-case", method: "GET", headers: xc, preflight: permissive("GET", "X-CUSTOM"), allowed: true},
		{desc: "no ACAH", method: "GET", headers: xc, preflight: rsp(204, ACAO, origin), reason: ReasonHeaderNotAllowed,
			message: "Request header field x-custom is not allowed by Access-Control-Allow-Headers in preflight response."},
		{desc: "ACAH *", method: "GET", headers: xc, preflight: rsp(204, ACAO, origin, ACAH, "*"), allowed: true},
		{desc: "credentials, ACAH *", method: "GET", headers: xc, creds: true, preflight: rsp(204, ACAO, origin, ACAC, "true", ACAH, "*"), reason: ReasonHeaderNotAllowed},
		{desc: "Authorization, ACAH * (Chromium)", browser: Chromium, method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "*"), allowed: true,
			specNote: "Chromium lets the Authorization header through"},
		{desc: "Authorization, ACAH * (spec)", browser: Spec, method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "*"), reason: ReasonHeaderNotAllowed,
			message: "Request header field authorization is not allowed by Access-Control-Allow-Headers in preflight response."},
		{desc: "Authorization, ACAH * (Firefox)", browser: Firefox, method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "*"), allowed: true,
			specNote: "Firefox lets the Authorization header through under `Access-Control-Allow-Headers: *`; the Fetch standard requires `authorization` to be listed explicitly; spec verdict: blocked at preflight"},
		{desc: "Authorization, ACAH * (WebKit)", browser: Webkit, method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "*"), allowed: true,
			specNote: "WebKit lets the Authorization header through"},
		{desc: "Authorization, ACAH *, Authorization", method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "*, Authorization"), allowed: true},
		{desc: "Authorization, ACAH authorization", method: "GET", headers: auth, preflight: rsp(204, ACAO, origin, ACAH, "authorization"), allowed: true},
		{desc: "two headers, ACAH lists one", method: "GET", headers: []Header{hd("X-A", "1"), hd("X-B", "1")}, preflight: permissive("GET", "X-A"), reason: ReasonHeaderNotAllowed,
			message: "Request header field x-b is not allowed by Access-Control-Allow-Headers in preflight response."},
		{desc: "two headers, ACAH in two headers", method: "GET", headers: []Header{hd("X-A", "1"), hd("X-B", "1")}, preflight: rsp(204, ACAO, origin, ACAH, "X-A", ACAH, "X-B"), allowed: true},
		{desc: "ACAH padded", method: "GET", headers: []Header{hd("X-A", "1"), hd("X-B", "1")}, preflight: permissive("GET", "  X-A ,   X-B  "), allowed: true},
		{desc: "ACAH empty element", method: "GET", headers: []Header{hd("X-A", "1")}, preflight: permissive("GET", "X-A,,X-B"), allowed: true},
		{desc: "ACAH space-separated", method: "GET", headers: []Header{hd("X-A", "1")}, preflight: permissive("GET", "X-A X-B"), reason: ReasonACAHInvalid,
			message: "Cannot parse Access-Control-Allow-Headers response header field in preflight response."},
		{desc: "ACAH invalid token char", method: "GET", headers: []Header{hd("X-A", "1")}, preflight: permissive("GET", "X-A, b@d"), reason: ReasonACAHInvalid},
		{desc: "ACAM parsed before ACAH", method: "PUT", preflight: permissive("PUT DELETE", "a b"), reason: ReasonACAMInvalid},
		{desc: "preflight 200", method: "PUT", preflight: rsp(200, ACAO, origin, ACAM, "PUT"), allowed: true},
		{desc: "preflight 299", method: "PUT", preflight: rsp(299, ACAO, origin, ACAM, "PUT"), allowed: true},
		{desc: "preflight 301", method: "PUT", preflight: rsp(301, ACAO, origin, ACAM, "PUT", "Location", "/x"), reason: ReasonPreflightRedirect,
			message: "Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request."},
		{desc: "preflight 307 without CORS headers", method: "PUT", preflight: rsp(307, "Location", "/x"), reason: ReasonPreflightRedirect},
		{desc: "preflight 308", method: "PUT", preflight: rsp(308, ACAO, origin, ACAM, "PUT", "Location", "/x"), reason: ReasonPreflightRedirect},
		{desc: "preflight 304", method: "PUT", preflight: rsp(304, ACAO, origin, ACAM, "PUT"), reason: ReasonPreflightStatus,
			message: "Response to preflight request doesn't pass access control check: It does not have HTTP ok status."},
		{desc: "preflight 302 without Location", method: "PUT", preflight: rsp(302, ACAO, origin, ACAM, "PUT"), reason: ReasonPreflightStatus},
		{desc: "preflight 404 without CORS headers", method: "PUT", preflight: rsp(404), reason: ReasonACAOMissing,
			message: "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."},
		{desc: "preflight 405 with CORS headers", method: "PUT", preflight: rsp(405, ACAO, origin, ACAM, "PUT"), reason: ReasonPreflightStatus},
		{desc: "preflight 500", method: "PUT", preflight: rsp(500, ACAO, origin, ACAM, "PUT"), reason: ReasonPreflightStatus},
		{desc: "preflight without ACAO", method: "PUT", preflight: rsp(204, ACAM, "PUT"), reason: ReasonACAOMissing},
		{desc: "preflight ACAO *", method: "PUT", preflight: rsp(204, ACAO, "*", ACAM, "PUT"), allowed: true},
		{desc: "credentials, preflight ACAO *", method: "PUT", creds: true, preflight: rsp(204, ACAO, "*", ACAC, "true", ACAM, "PUT"), reason: ReasonWildcardWithCredentials,
			message: "Response to preflight request doesn't pass access control check: The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."},
		{desc: "credentials, preflight without ACAC", method: "PUT", creds: true, preflight: rsp(204, ACAO, origin, ACAM, "PUT"), reason: ReasonACACMissing},
		{desc: "preflight ACAO sent twice", method: "PUT", preflight: rsp(204, ACAO, origin, ACAO, origin, ACAM, "PUT"), reason: ReasonACAOMultiple},
		{desc: "preflight ACAO other origin", method: "PUT", preflight: rsp(204, ACAO, "http://example.com", ACAM, "PUT"), reason: ReasonACAOMismatch},
		{desc: "no preflight response", method: "PUT", preflight: nil, reason: ReasonNoResponse,
			message: "The preflight request got no response: the browser reports a network error (net::ERR_FAILED)."},
		{desc: "Chromium safelists DPR, spec wants a preflight", browser: Chromium, method: "GET", headers: []Header{hd("DPR", "2")}, preflight: nil, allowed: true,
			specNote: `Chromium treats "dpr" as a CORS-safelisted request header`},
		{desc: "negative max-age (Chromium)", browser: Chromium, method: "PUT", preflight: permissive("PUT", "", ACMA, "-1"), allowed: true,
			specNote: "is negative: Chromium does not cache the preflight; the Fetch standard caches it for 5s"},
		{desc: "negative max-age (WebKit)", browser: Webkit, method: "PUT", preflight: permissive("PUT", "", ACMA, "-1"), allowed: true,
			specNote: "is negative: WebKit does not cache the preflight; the Fetch standard caches it for 5s"},
		{desc: "max-age above the cap is not a spec difference", browser: Chromium, method: "PUT", preflight: permissive("PUT", "", ACMA, "99999999"), allowed: true},
	}
	for _, tc := range tests {
		browsers := Browsers
		if tc.browser != "" {
			browsers = []Browser{tc.browser}
		}
		for _, b := range browsers {
			t.Run(tc.desc+"/"+string(b), func(t *testing.T) {
				r := Request{Origin: origin, Method: tc.method, Headers: tc.headers, Credentials: tc.creds}
				v := Evaluate(b, r, tc.preflight, nil)
				if v.Allowed != tc.allowed || v.Reason != tc.reason {
					t.Fatalf("Evaluate = %+v, want allowed=%v reason=%q", v, tc.allowed, tc.reason)
				}
				// message is Chromium's wording (and the Spec model's);
				// TestEngineWording has Firefox's and WebKit's.
				chromiumWording := b == Chromium || b == Spec
				if !tc.allowed && (v.Stage != StagePreflight || chromiumWording && tc.message != "" && v.Message != tc.message) {
					t.Errorf("stage %q message %q, want stage preflight, message %q", v.Stage, v.Message, tc.message)
				}
				if tc.specNote == "" && v.SpecNote != "" || !strings.Contains(v.SpecNote, tc.specNote) {
					t.Errorf("SpecNote = %q, want it to contain %q", v.SpecNote, tc.specNote)
				}
				if tc.allowed && v.Note == "" {
					t.Error("Note is empty although the actual request was not evaluated")
				}
			})
		}
	}
}

func TestEvaluatePreflightThenActual(t *testing.T) {
	pre := rsp(204, ACAO, origin, ACAC, "true", ACAM, "PUT", ACMA, "600")
	tests := []struct {
		desc    string
		creds   bool
		actual  *Response
		allowed bool
		reason  Reason
		cache   time.Duration
		note    string
	}{
		{desc: "both pass", creds: true, actual: rsp(200, ACAO, origin, ACAC, "true"), allowed: true, cache: 600 * time.Second},
		{desc: "actual without ACAO", actual: rsp(200), reason: ReasonACAOMissing},
		{desc: "credentials, actual ACAO *", creds: true, actual: rsp(200, ACAO, "*", ACAC, "true"), reason: ReasonWildcardWithCredentials},
		{desc: "credentials, actual without ACAC", creds: true, actual: rsp(200, ACAO, origin), reason: ReasonACACMissing},
		{desc: "actual redirect passing the CORS check", actual: rsp(302, ACAO, origin, "Location", "https://elsewhere.example/"), allowed: true, cache: 600 * time.Second,
			note: "redirect target was not checked"},
		{desc: "actual redirect without ACAO", actual: rsp(302, "Location", "https://elsewhere.example/"), reason: ReasonACAOMissing},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := Request{Origin: origin, Method: "PUT", Credentials: tc.creds}
			v := Evaluate(Chromium, r, pre, tc.actual)
			if v.Allowed != tc.allowed || v.Reason != tc.reason || !v.Preflight {
				t.Fatalf("Evaluate = %+v, want allowed=%v reason=%q with preflight", v, tc.allowed, tc.reason)
			}
			if !tc.allowed && v.Stage != StageActual {
				t.Errorf("Stage = %q, want actual", v.Stage)
			}
			if v.CacheLifetime != tc.cache {
				t.Errorf("CacheLifetime = %v, want %v", v.CacheLifetime, tc.cache)
			}
			if !strings.Contains(v.Note, tc.note) || tc.note == "" && v.Note != "" {
				t.Errorf("Note = %q, want it to contain %q", v.Note, tc.note)
			}
		})
	}
}

func TestEvaluateExposed(t *testing.T) {
	base := []string{"Content-Type", "text/plain", "X-Exposed", "1", "X-Hidden", "1", "Set-Cookie", "a=b"}
	tests := []struct {
		desc  string
		creds bool
		kv    []string
		want  string
	}{
		{desc: "no ACEH: safelisted only", kv: []string{ACAO, "*"}, want: "content-type"},
		{desc: "ACEH names a header", kv: []string{ACAO, "*", ACEH, "x-EXPOSED"}, want: "content-type,x-exposed"},
		{desc: "ACEH * exposes all but Set-Cookie", kv: []string{ACAO, "*", ACEH, "*"},
			want: "access-control-allow-origin,access-control-expose-headers,content-type,x-exposed,x-hidden"},
		{desc: "credentials, ACEH * is a literal name", creds: true, kv: []string{ACAO, origin, ACAC, "true", ACEH, "*"}, want: "content-type"},
		{desc: "ACEH invalid list exposes nothing extra", kv: []string{ACAO, "*", ACEH, "X-Exposed X-Hidden"}, want: "content-type"},
		{desc: "ACEH in two headers", kv: []string{ACAO, "*", ACEH, "X-Exposed", ACEH, "X-Hidden"}, want: "content-type,x-exposed,x-hidden"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := Request{Origin: origin, Method: "GET", Credentials: tc.creds}
			v := Evaluate(Chromium, r, nil, rsp(200, append(append([]string{}, base...), tc.kv...)...))
			if got := strings.Join(v.Exposed, ","); !v.Allowed || got != tc.want {
				t.Errorf("Exposed = %q (allowed %v), want %q", got, v.Allowed, tc.want)
			}
		})
	}
}

func TestEvaluateNothingSent(t *testing.T) {
	tests := []struct {
		desc    string
		method  string
		allowed bool
		reason  Reason
	}{
		{desc: "simple request, actual not sent", method: "POST", allowed: true},
		{desc: "forbidden method", method: "TRACE", reason: ReasonForbiddenMethod},
		{desc: "method that is not a token", method: "PU T", reason: ReasonForbiddenMethod},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			v := Evaluate(Chromium, Request{Origin: origin, Method: tc.method}, nil, nil)
			if v.Allowed != tc.allowed || v.Reason != tc.reason {
				t.Errorf("Evaluate = %+v, want allowed=%v reason=%q", v, tc.allowed, tc.reason)
			}
			if ConsoleMessage(Chromium, "http://x.example/", origin, v) != "" {
				t.Error("ConsoleMessage is not empty for a verdict without a CORS error")
			}
		})
	}
}

func TestConsoleMessage(t *testing.T) {
	tests := []struct {
		desc, url, want string
		v               Verdict
	}{
		{desc: "preflight redirect", url: "HTTP://API.Example:80",
			v:    Evaluate(Chromium, Request{Origin: "https://app.example", Method: "PUT"}, rsp(301, "Location", "/"), nil),
			want: "Access to fetch at 'http://api.example/' from origin 'https://app.example' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request."},
		{desc: "header not allowed keeps path and query", url: "https://api.example:8443/v1/x?q=1",
			v:    Evaluate(Chromium, Request{Origin: "https://app.example", Method: "GET", Headers: []Header{hd("X-Foo", "1")}}, rsp(204, ACAO, "https://app.example"), nil),
			want: "Access to fetch at 'https://api.example:8443/v1/x?q=1' from origin 'https://app.example' has been blocked by CORS policy: Request header field x-foo is not allowed by Access-Control-Allow-Headers in preflight response."},
		{desc: "allowed", url: "https://api.example/", v: Verdict{Allowed: true}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := ConsoleMessage(Chromium, tc.url, "https://app.example", tc.v); got != tc.want {
				t.Errorf("ConsoleMessage =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestEvaluateActualAlone: a preflighted request judged on its actual
// response alone (the load balancer routes its preflight elsewhere) runs
// the CORS check on that response, as Evaluate does after a passing
// preflight, and never blocks for want of a preflight.
func TestEvaluateActualAlone(t *testing.T) {
	r := Request{Origin: origin, Method: http.MethodPut, Headers: []Header{{Name: "X-Request-Id", Value: "1"}}}
	for _, tc := range []struct {
		desc    string
		actual  *Response
		allowed bool
		stage   string
		reason  Reason
	}{
		{desc: "ACAO on the actual response", actual: rsp(200, ACAO, origin), allowed: true},
		{desc: "no ACAO", actual: rsp(200), stage: StageActual, reason: ReasonACAOMissing},
	} {
		v := EvaluateActual(Chromium, r, tc.actual)
		if v.Allowed != tc.allowed || v.Reason != tc.reason || (!tc.allowed && v.Stage != tc.stage) {
			t.Errorf("%s: allowed %v at %q (%s), want %v at %q (%s)", tc.desc, v.Allowed, v.Stage, v.Reason, tc.allowed, tc.stage, tc.reason)
		}
		if !v.Preflight {
			t.Errorf("%s: Preflight false: the request needs one", tc.desc)
		}
		if full := Evaluate(Chromium, r, nil, tc.actual); full.Allowed || full.Stage != StagePreflight {
			t.Errorf("%s: Evaluate without the preflight = %+v, want blocked at the preflight (what EvaluateActual avoids)", tc.desc, full)
		}
	}
}
