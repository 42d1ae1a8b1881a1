package cors

import "testing"

// TestEngineWording: for each reason, the console line of each engine
// (ConsoleMessage on that engine's verdict): Chromium's, Firefox's
// security.properties strings, WebKit's CrossOriginAccessControl.cpp
// and CrossOriginPreflightResultCache.cpp messages. The conformance suite
// checks the same lines against the real engines.
func TestEngineWording(t *testing.T) {
	const url = "http://api.example:8080/v1/x"
	const ffAt = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at " + url + ". (Reason: "
	get := Request{Origin: origin, Method: "GET"}
	creds := Request{Origin: origin, Method: "GET", Credentials: true}
	put := Request{Origin: origin, Method: "PUT"}
	custom := Request{Origin: origin, Method: "GET", Headers: []Header{hd("X-Request-Id", "1")}}
	tests := []struct {
		desc              string
		req               Request
		preflight, actual *Response
		reason            Reason
		chromium          string // after "has been blocked by CORS policy: "
		firefox, webkit   string
	}{
		{desc: "ACAO missing", req: get, actual: rsp(403), reason: ReasonACAOMissing,
			chromium: "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			firefox:  ffAt + "CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.",
			webkit:   "Origin " + origin + " is not allowed by Access-Control-Allow-Origin. Status code: 403"},
		{desc: "ACAO another origin", req: get, actual: rsp(200, ACAO, "https://other.example"), reason: ReasonACAOMismatch,
			chromium: "The 'Access-Control-Allow-Origin' header has a value 'https://other.example' that is not equal to the supplied origin. Have the server send the header with a valid value.",
			firefox:  ffAt + "CORS header ‘Access-Control-Allow-Origin’ does not match ‘https://other.example’).",
			webkit:   "Origin " + origin + " is not allowed by Access-Control-Allow-Origin. Status code: 200"},
		{desc: "ACAO invalid, non-ASCII", req: get, actual: rsp(200, ACAO, "b\xe9d"), reason: ReasonACAOInvalid,
			chromium: "The 'Access-Control-Allow-Origin' header contains the invalid value 'béd'. Have the server send the header with a valid value.",
			firefox:  ffAt + "CORS header ‘Access-Control-Allow-Origin’ does not match ‘b\uFFFDd’).",
			webkit:   "Origin " + origin + " is not allowed by Access-Control-Allow-Origin. Status code: 200"},
		{desc: "ACAO sent twice", req: get, actual: rsp(200, ACAO, origin, ACAO, origin), reason: ReasonACAOMultiple,
			chromium: "The 'Access-Control-Allow-Origin' header contains multiple values '" + origin + ", " + origin + "', but only one is allowed. Have the server send the header with a valid value.",
			firefox:  ffAt + "Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed).",
			webkit:   "Access-Control-Allow-Origin cannot contain more than one origin."},
		{desc: "ACAO a list in one header", req: get, actual: rsp(200, ACAO, origin+" https://b.example"), reason: ReasonACAOMultiple,
			chromium: "The 'Access-Control-Allow-Origin' header contains multiple values '" + origin + " https://b.example', but only one is allowed. Have the server send the header with a valid value.",
			firefox:  ffAt + "CORS header ‘Access-Control-Allow-Origin’ does not match ‘" + origin + " https://b.example’).",
			webkit:   "Origin " + origin + " is not allowed by Access-Control-Allow-Origin. Status code: 200"},
		{desc: "wildcard with credentials", req: creds, actual: rsp(200, ACAO, "*", ACAC, "true"), reason: ReasonWildcardWithCredentials,
			chromium: "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
			firefox:  "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at ‘" + url + "’. (Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’).",
			webkit:   "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."},
		{desc: "ACAC missing", req: creds, actual: rsp(200, ACAO, origin), reason: ReasonACACMissing,
			chromium: "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.",
			firefox:  ffAt + "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’).",
			webkit:   `Credentials flag is true, but Access-Control-Allow-Credentials is not "true".`},
		{desc: "preflight status", req: put, preflight: rsp(500, ACAO, origin, ACAM, "PUT"), reason: ReasonPreflightStatus,
			chromium: "Response to preflight request doesn't pass access control check: It does not have HTTP ok status.",
			firefox:  ffAt + "CORS preflight response did not succeed). Status code: 500.",
			webkit:   "Preflight response is not successful. Status code: 500"},
		{desc: "preflight 404 without CORS headers: WebKit checks the status first", req: put, preflight: rsp(404), reason: ReasonACAOMissing,
			chromium: "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			firefox:  ffAt + "CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 404.",
			webkit:   "Preflight response is not successful. Status code: 404"},
		{desc: "preflight redirect", req: put, preflight: rsp(301, ACAO, origin, ACAM, "PUT", "Location", "/x"), reason: ReasonPreflightRedirect,
			chromium: "Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.",
			firefox:  ffAt + "CORS request external redirect not allowed).",
			webkit:   "Preflight response is not successful. Status code: 301"},
		{desc: "ACAM invalid", req: put, preflight: rsp(204, ACAO, origin, ACAM, "GET, PUT;"), reason: ReasonACAMInvalid,
			chromium: "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
			firefox:  ffAt + "invalid token ‘PUT;’ in CORS header ‘Access-Control-Allow-Methods’).",
			webkit:   "Header Access-Control-Allow-Methods has an invalid value: GET, PUT;"},
		{desc: "ACAH invalid", req: custom, preflight: rsp(204, ACAO, origin, ACAH, "X-A X-B"), reason: ReasonACAHInvalid,
			chromium: "Cannot parse Access-Control-Allow-Headers response header field in preflight response.",
			firefox:  ffAt + "invalid token ‘X-A X-B’ in CORS header ‘Access-Control-Allow-Headers’).",
			webkit:   "Header Access-Control-Allow-Headers has an invalid value: X-A X-B"},
		{desc: "method not allowed", req: put, preflight: rsp(204, ACAO, origin, ACAM, "GET"), reason: ReasonMethodNotAllowed,
			chromium: "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.",
			firefox:  ffAt + "Did not find method in CORS header ‘Access-Control-Allow-Methods’).",
			webkit:   "Method PUT is not allowed by Access-Control-Allow-Methods."},
		{desc: "header not allowed", req: custom, preflight: rsp(204, ACAO, origin, ACAH, "Content-Type"), reason: ReasonHeaderNotAllowed,
			chromium: "Request header field x-request-id is not allowed by Access-Control-Allow-Headers in preflight response.",
			firefox:  ffAt + "header ‘x-request-id’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).",
			webkit:   "Request header field X-Request-Id is not allowed by Access-Control-Allow-Headers."},
		{desc: "no preflight response: only Firefox prints a CORS line", req: put, reason: ReasonNoResponse,
			firefox: ffAt + "CORS request did not succeed). Status code: (null)."},
		{desc: "a response the browsers' parsers reject: a network error, only Firefox prints a CORS line", req: get,
			actual: &Response{Status: 200, Invalid: `"X-Junk: a\x00b" holds a NUL byte`}, reason: ReasonInvalidResponse,
			firefox: ffAt + "CORS request did not succeed). Status code: (null)."},
		{desc: "a preflight response the parsers reject: WebKitGTK logs libsoup's error", req: put,
			preflight: &Response{Status: 204, Invalid: `"X-Junk: a\x00b" holds a NUL byte`}, reason: ReasonInvalidResponse,
			firefox: ffAt + "CORS request did not succeed). Status code: (null).", webkit: "Could not parse HTTP response"},
		{desc: "forbidden method: nothing is sent, no console line", req: Request{Origin: origin, Method: "TRACE"}, reason: ReasonForbiddenMethod},
	}
	for _, tc := range tests {
		for _, e := range []struct {
			b    Browser
			want string
		}{
			{Chromium, tc.chromium}, {Firefox, tc.firefox}, {Webkit, tc.webkit},
		} {
			t.Run(tc.desc+"/"+string(e.b), func(t *testing.T) {
				v := Evaluate(e.b, tc.req, tc.preflight, tc.actual)
				if v.Allowed || v.Reason != tc.reason {
					t.Fatalf("Evaluate(%s) = allowed %v, reason %q; want blocked, %q", e.b, v.Allowed, v.Reason, tc.reason)
				}
				want := e.want
				if e.b == Chromium && want != "" {
					want = "Access to fetch at '" + url + "' from origin '" + origin + "' has been blocked by CORS policy: " + want
				}
				if got := ConsoleMessage(e.b, url, origin, v); got != want {
					t.Errorf("ConsoleMessage(%s) =\n%q\nwant\n%q", e.b, got, want)
				}
				if v.Message == "" {
					t.Errorf("Evaluate(%s): blocked with no message", e.b)
				}
			})
		}
	}
}
