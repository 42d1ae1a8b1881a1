package conformance

import (
	"fmt"
	"strings"
)

// scenario is one fetch() from the page and the server's scripted answers.
type scenario struct {
	id          string // assigned in order: s001, s002, ...
	desc        string
	method      string      // as passed to fetch()
	headers     [][2]string // author request headers, in order
	credentials bool
	preflight   scripted // answer to OPTIONS with Access-Control-Request-Method
	actual      scripted // answer to everything else
	// repeat is how many times the page runs the fetch(), one after the
	// other (0: once); the number of preflights shows the preflight cache.
	repeat int
	// cache is the fetch() cache mode ("": default).
	cache string
	// sandboxed runs the fetch() from a sandboxed iframe: origin "null".
	sandboxed bool
}

// origin is the origin the scenario's fetch() comes from.
func (s *scenario) origin(pageOrigin string) string {
	if s.sandboxed {
		return "null"
	}
	return pageOrigin
}

// page is the scenario as the page runs it against url.
func (s *scenario) page(url string) pageScenario {
	return pageScenario{ID: s.id, URL: url, Method: s.method, Headers: append([][2]string{}, s.headers...),
		Credentials: s.credentials, Repeat: s.repeat, Cache: s.cache, Sandboxed: s.sandboxed}
}

// repeated makes the page run s n times with fetch() cache mode mode.
func repeated(n int, mode string, s *scenario) *scenario { s.repeat, s.cache = n, mode; return s }

// fromSandbox runs s from a sandboxed iframe, whose origin is "null".
func fromSandbox(s *scenario) *scenario { s.sandboxed = true; return s }

// Shorthands for the table.
func h(name, value string) field                { return field{name: name, value: value} }
func rawLine(line string) field                 { return field{line: line} }
func resp(status int, fields ...field) scripted { return scripted{status: status, fields: fields} }
func hdr(name, value string) [2]string          { return [2]string{name, value} }

const (
	acao = "Access-Control-Allow-Origin"
	acac = "Access-Control-Allow-Credentials"
	acam = "Access-Control-Allow-Methods"
	acah = "Access-Control-Allow-Headers"
	aceh = "Access-Control-Expose-Headers"
	acma = "Access-Control-Max-Age"
)

var (
	okOrigin = h(acao, phOrigin)
	okStar   = h(acao, "*")
	okCreds  = h(acac, "true")
	// actualOK is an actual response any non-credentialed request passes.
	actualOK = resp(200, okOrigin)
	// noAnswer is a response without any CORS header.
	noAnswer = resp(200)
)

// permissive is a passing preflight for method and header names.
func permissive(method, headers string, extra ...field) scripted {
	f := []field{okOrigin, okCreds, h(acam, method)}
	if headers != "" {
		f = append(f, h(acah, headers))
	}
	return resp(204, append(f, extra...)...)
}

// simple is a request without preflight whose actual answer is a.
func simple(desc, method string, a scripted, headers ...[2]string) *scenario {
	return &scenario{desc: desc, method: method, headers: headers, preflight: permissive(method, ""), actual: a}
}

// credentialed marks a scenario fetch(..., {credentials: 'include'}).
func credentialed(s *scenario) *scenario { s.credentials = true; return s }

// preflighted is a request with preflight answer p and actual answer a.
func preflighted(desc, method string, p, a scripted, headers ...[2]string) *scenario {
	return &scenario{desc: desc, method: method, headers: headers, preflight: p, actual: a}
}

// safelistProbe checks only the preflight decision for one header: the
// server allows everything, so the verdict is "allowed" whether or not a
// preflight is sent, and the recorded OPTIONS tells what the browser did.
func safelistProbe(desc string, headers ...[2]string) *scenario {
	var names []string
	for _, hd := range headers {
		names = append(names, hd[0])
	}
	return &scenario{desc: desc, method: "GET", headers: headers,
		preflight: permissive("GET", strings.Join(names, ", ")), actual: resp(200, okOrigin, okCreds)}
}

func scenarios() []*scenario {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	all := []*scenario{
		// ACAO on a simple request.
		simple("simple GET without ACAO", "GET", noAnswer),
		simple("simple GET, ACAO *", "GET", resp(200, okStar)),
		simple("simple GET, ACAO exact origin", "GET", actualOK),
		simple("simple GET, ACAO another origin", "GET", resp(200, h(acao, "http://example.com"))),
		simple("simple GET, ACAO origin with trailing slash", "GET", resp(200, h(acao, phOrigin+"/"))),
		simple("simple GET, ACAO origin upper-cased", "GET", resp(200, h(acao, phUpper))),
		simple("simple GET, ACAO null", "GET", resp(200, h(acao, "null"))),
		simple("simple GET, ACAO list of two origins in one header", "GET", resp(200, h(acao, phOrigin+", "+phOrigin))),
		simple("simple GET, ACAO origin sent twice", "GET", resp(200, okOrigin, okOrigin)),
		simple("simple GET, ACAO * sent twice", "GET", resp(200, okStar, okStar)),
		simple("simple GET, ACAO * and origin", "GET", resp(200, okStar, okOrigin)),
		simple("simple GET, ACAO *, origin in one header", "GET", resp(200, h(acao, "*, "+phOrigin))),
		simple("simple GET, ACAO padded with spaces", "GET", resp(200, h(acao, "   "+phOrigin+"   "))),
		simple("simple GET, ACAO padded with a tab", "GET", resp(200, h(acao, phOrigin+"\t"))),
		simple("simple GET, ACAO empty", "GET", resp(200, h(acao, ""))),
		simple("simple GET, ACAO origin with another port", "GET", resp(200, h(acao, "http://127.0.0.1:1"))),
		simple("simple GET, ACAO lower-case header name", "GET", resp(200, h("access-control-allow-origin", phOrigin))),
		simple("simple GET, ACAO origin without scheme", "GET", resp(200, h(acao, phHostPort))),
		simple("simple GET, ACAO ** ", "GET", resp(200, h(acao, "**"))),
		simple("simple GET, ACAO quoted *", "GET", resp(200, h(acao, `"*"`))),
		simple("simple HEAD, ACAO *", "HEAD", resp(200, okStar)),
		simple("simple HEAD without ACAO", "HEAD", noAnswer),
		simple("simple POST text/plain, ACAO *", "POST", resp(200, okStar), hdr("Content-Type", "text/plain")),
		simple("simple POST text/plain without ACAO", "POST", noAnswer, hdr("Content-Type", "text/plain")),
		simple("simple GET answered 500 with ACAO *", "GET", resp(500, okStar)),
		simple("simple GET answered 404 without ACAO", "GET", resp(404)),
		simple("lower-case get is normalized and simple", "get", resp(200, okStar)),

		// Credentials on a simple request.
		credentialed(simple("credentials, ACAO *", "GET", resp(200, okStar, okCreds))),
		credentialed(simple("credentials, ACAO origin without ACAC", "GET", actualOK)),
		credentialed(simple("credentials, ACAO origin, ACAC true", "GET", resp(200, okOrigin, okCreds))),
		credentialed(simple("credentials, ACAC True (case)", "GET", resp(200, okOrigin, h(acac, "True")))),
		credentialed(simple("credentials, ACAC true padded", "GET", resp(200, okOrigin, h(acac, " true ")))),
		credentialed(simple("credentials, ACAC false", "GET", resp(200, okOrigin, h(acac, "false")))),
		credentialed(simple("credentials, ACAC true sent twice", "GET", resp(200, okOrigin, okCreds, okCreds))),
		credentialed(simple("credentials, ACAC 1", "GET", resp(200, okOrigin, h(acac, "1")))),
		simple("no credentials, ACAO origin, ACAC true", "GET", resp(200, okOrigin, okCreds)),
		simple("no credentials, ACAO *, ACAC true", "GET", resp(200, okStar, okCreds)),
		simple("no credentials, ACAO *, ACAC false", "GET", resp(200, okStar, h(acac, "false"))),

		// Request headers: which are CORS-safelisted (no preflight).
		safelistProbe("Accept application/json is safelisted", hdr("Accept", "application/json")),
		safelistProbe("Accept with a quote is unsafe", hdr("Accept", `text/html"`)),
		safelistProbe("Accept with a brace is unsafe", hdr("Accept", "text/{html}")),
		safelistProbe("Accept with a colon is unsafe", hdr("Accept", "a:b")),
		safelistProbe("Accept of 128 bytes is safelisted", hdr("Accept", long("text/", 128))),
		safelistProbe("Accept of 129 bytes is unsafe", hdr("Accept", long("text/", 129))),
		safelistProbe("Accept-Language en-US,en;q=0.9 is safelisted", hdr("Accept-Language", "en-US,en;q=0.9")),
		safelistProbe("Accept-Language with * is safelisted", hdr("Accept-Language", "de-CH, *")),
		safelistProbe("Accept-Language with _ is unsafe", hdr("Accept-Language", "en_US")),
		safelistProbe("Accept-Language with ! is unsafe", hdr("Accept-Language", "en!")),
		safelistProbe("Accept-Language of 129 bytes is unsafe", hdr("Accept-Language", long("en-", 129))),
		safelistProbe("Content-Language de is safelisted", hdr("Content-Language", "de")),
		safelistProbe("Content-Language with / is unsafe", hdr("Content-Language", "de/CH")),
		safelistProbe("Content-Type text/plain is safelisted", hdr("Content-Type", "text/plain")),
		safelistProbe("Content-Type form-urlencoded is safelisted", hdr("Content-Type", "application/x-www-form-urlencoded")),
		safelistProbe("Content-Type multipart/form-data is safelisted", hdr("Content-Type", "multipart/form-data; boundary=x")),
		safelistProbe("Content-Type essence is case-insensitive", hdr("Content-Type", "TEXT/Plain")),
		safelistProbe("Content-Type with charset is safelisted", hdr("Content-Type", "text/plain; charset=utf-8")),
		safelistProbe("Content-Type with quoted charset is unsafe", hdr("Content-Type", `text/plain; charset="utf-8"`)),
		safelistProbe("Content-Type application/json is unsafe", hdr("Content-Type", "application/json")),
		safelistProbe("Content-Type text/html is unsafe", hdr("Content-Type", "text/html")),
		safelistProbe("Content-Type list is unsafe", hdr("Content-Type", "text/plain, application/json")),
		safelistProbe("Content-Type with parenthesis is unsafe", hdr("Content-Type", "text/plain;a=b(")),
		safelistProbe("Content-Type of 129 bytes is unsafe", hdr("Content-Type", long("text/plain; a=", 129))),
		safelistProbe("Content-Type without subtype is unsafe", hdr("Content-Type", "text")),
		safelistProbe("Range bytes=0-99 is safelisted", hdr("Range", "bytes=0-99")),
		safelistProbe("Range bytes=5- is safelisted", hdr("Range", "bytes=5-")),
		safelistProbe("Range suffix bytes=-5 is unsafe", hdr("Range", "bytes=-5")),
		safelistProbe("Range with two ranges is unsafe", hdr("Range", "bytes=0-1,3-4")),
		safelistProbe("Range with start after end is unsafe", hdr("Range", "bytes=5-2")),
		safelistProbe("Range in other units is unsafe", hdr("Range", "items=0-1")),
		safelistProbe("custom header is unsafe", hdr("X-Custom", "1")),
		safelistProbe("Authorization is unsafe", hdr("Authorization", "Bearer x")),
		safelistProbe("safelisted headers under 1024 bytes in total",
			hdr("Accept", long("a/", 128)), hdr("Accept-Language", long("en", 128)),
			hdr("Content-Language", long("de", 128)), hdr("Content-Type", "text/plain")),
		safelistProbe("Accept appended nine times, over 1024 bytes in total",
			hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120)),
			hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120)),
			hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120)), hdr("Accept", long("a/", 120))),
		safelistProbe("Accept appended twice combines past 128 bytes",
			hdr("Accept", long("a/", 100)), hdr("Accept", long("b/", 100))),
		safelistProbe("Accept-Language appended twice stays safelisted", hdr("Accept-Language", "en"), hdr("Accept-Language", "de")),
		safelistProbe("two unsafe headers are listed sorted and lower-cased",
			hdr("X-Zeta", "1"), hdr("X-Alpha", "1"), hdr("Content-Type", "application/json")),
		safelistProbe("mixed-case custom header name", hdr("X-MiXeD-CaSe", "1")),
		safelistProbe("safelisted and unsafe headers together", hdr("Accept", "application/json"), hdr("X-Custom", "1")),

		// Methods and ACAM.
		preflighted("PUT, ACAM PUT", "PUT", permissive("PUT", ""), actualOK),
		preflighted("PUT, ACAM put", "PUT", permissive("put", ""), actualOK),
		preflighted("put is normalized to PUT, ACAM PUT", "put", permissive("PUT", ""), actualOK),
		preflighted("patch is not normalized, ACAM PATCH", "patch", permissive("PATCH", ""), actualOK),
		preflighted("patch is not normalized, ACAM patch", "patch", permissive("patch", ""), actualOK),
		preflighted("PATCH, ACAM PATCH", "PATCH", permissive("PATCH", ""), actualOK),
		preflighted("DELETE, ACAM GET, POST", "DELETE", permissive("GET, POST", ""), actualOK),
		preflighted("DELETE, ACAM *", "DELETE", resp(204, okOrigin, h(acam, "*")), actualOK),
		credentialed(preflighted("credentials, DELETE, ACAM *", "DELETE", resp(204, okOrigin, okCreds, h(acam, "*")), resp(200, okOrigin, okCreds))),
		credentialed(preflighted("credentials, DELETE, ACAM *, DELETE", "DELETE", resp(204, okOrigin, okCreds, h(acam, "*, DELETE")), resp(200, okOrigin, okCreds))),
		preflighted("DELETE, ACAM without spaces", "DELETE", permissive("PUT,DELETE", ""), actualOK),
		preflighted("PUT, ACAM with empty element", "PUT", permissive("PUT,,DELETE", ""), actualOK),
		preflighted("PUT, ACAM with trailing comma", "PUT", permissive("PUT, ", ""), actualOK),
		preflighted("PUT, ACAM space-separated", "PUT", permissive("PUT DELETE", ""), actualOK),
		preflighted("PUT, ACAM with semicolon", "PUT", permissive("PUT;", ""), actualOK),
		preflighted("PUT, ACAM empty", "PUT", permissive("", ""), actualOK),
		preflighted("PUT, no ACAM", "PUT", resp(204, okOrigin), actualOK),
		preflighted("DELETE, ACAM in two headers", "DELETE", resp(204, okOrigin, h(acam, "PUT"), h(acam, "DELETE")), actualOK),
		preflighted("custom method FOO, ACAM FOO", "FOO", permissive("FOO", ""), actualOK),
		preflighted("custom method FOO, ACAM foo", "FOO", permissive("foo", ""), actualOK),
		preflighted("OPTIONS method, ACAM OPTIONS", "OPTIONS", permissive("OPTIONS", ""), actualOK),
		preflighted("POST application/json, no ACAM", "POST", resp(204, okOrigin, h(acah, "Content-Type")), actualOK,
			hdr("Content-Type", "application/json")),
		preflighted("GET with custom header, ACAM absent", "GET", resp(204, okOrigin, h(acah, "X-Custom")), actualOK, hdr("X-Custom", "1")),

		// ACAH.
		preflighted("X-Custom, ACAH X-Custom", "GET", permissive("GET", "X-Custom"), actualOK, hdr("X-Custom", "1")),
		preflighted("X-Custom, ACAH upper-case", "GET", permissive("GET", "X-CUSTOM"), actualOK, hdr("X-Custom", "1")),
		preflighted("X-Custom, no ACAH", "GET", resp(204, okOrigin), actualOK, hdr("X-Custom", "1")),
		preflighted("X-Custom, ACAH *", "GET", resp(204, okOrigin, h(acah, "*")), actualOK, hdr("X-Custom", "1")),
		credentialed(preflighted("credentials, X-Custom, ACAH *", "GET", resp(204, okOrigin, okCreds, h(acah, "*")), resp(200, okOrigin, okCreds), hdr("X-Custom", "1"))),
		preflighted("Authorization, ACAH *", "GET", resp(204, okOrigin, h(acah, "*")), actualOK, hdr("Authorization", "Bearer x")),
		preflighted("Authorization, ACAH *, Authorization", "GET", resp(204, okOrigin, h(acah, "*, Authorization")), actualOK, hdr("Authorization", "Bearer x")),
		preflighted("Authorization, ACAH Authorization", "GET", resp(204, okOrigin, h(acah, "authorization")), actualOK, hdr("Authorization", "Bearer x")),
		preflighted("two headers, ACAH lists one", "GET", permissive("GET", "X-A"), actualOK, hdr("X-A", "1"), hdr("X-B", "1")),
		preflighted("two headers, ACAH in two headers", "GET", resp(204, okOrigin, h(acah, "X-A"), h(acah, "X-B")), actualOK, hdr("X-A", "1"), hdr("X-B", "1")),
		preflighted("two headers, ACAH padded", "GET", permissive("GET", "  X-A ,   X-B  "), actualOK, hdr("X-A", "1"), hdr("X-B", "1")),
		preflighted("two headers, ACAH with empty element", "GET", permissive("GET", "X-A,,X-B"), actualOK, hdr("X-A", "1"), hdr("X-B", "1")),
		preflighted("two headers, ACAH space-separated", "GET", permissive("GET", "X-A X-B"), actualOK, hdr("X-A", "1"), hdr("X-B", "1")),
		preflighted("X-A, ACAH with semicolon", "GET", permissive("GET", "X-A;"), actualOK, hdr("X-A", "1")),
		preflighted("X-A, ACAH with invalid entry besides", "GET", permissive("GET", "X-A, b@d"), actualOK, hdr("X-A", "1")),
		preflighted("Content-Type json, no ACAH", "POST", permissive("POST", ""), actualOK, hdr("Content-Type", "application/json")),
		preflighted("Content-Type json, ACAH content-type", "POST", permissive("POST", "content-type"), actualOK, hdr("Content-Type", "application/json")),

		// Preflight status codes and redirects.
		preflighted("preflight 200", "PUT", resp(200, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 206", "PUT", resp(206, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 299", "PUT", resp(299, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 301 with CORS headers", "PUT", resp(301, okOrigin, h(acam, "PUT"), h("Location", phSelf)), actualOK),
		preflighted("preflight 302", "PUT", resp(302, okOrigin, h(acam, "PUT"), h("Location", phSelf)), actualOK),
		preflighted("preflight 307", "PUT", resp(307, okOrigin, h(acam, "PUT"), h("Location", phSelf)), actualOK),
		preflighted("preflight 308", "PUT", resp(308, okOrigin, h(acam, "PUT"), h("Location", phSelf)), actualOK),
		preflighted("preflight 304", "PUT", resp(304, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 400", "PUT", resp(400, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 404 without CORS headers", "PUT", resp(404), actualOK),
		preflighted("preflight 405 with CORS headers", "PUT", resp(405, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 405 without CORS headers", "PUT", resp(405), actualOK),
		preflighted("preflight 500", "PUT", resp(500, okOrigin, h(acam, "PUT")), actualOK),

		// ACAO and ACAC on the preflight and on the actual response.
		preflighted("preflight without ACAO", "PUT", resp(204, h(acam, "PUT")), actualOK),
		preflighted("preflight ACAO *", "PUT", resp(204, okStar, h(acam, "PUT")), resp(200, okStar)),
		credentialed(preflighted("credentials, preflight ACAO * with ACAC", "PUT", resp(204, okStar, okCreds, h(acam, "PUT")), resp(200, okOrigin, okCreds))),
		credentialed(preflighted("credentials, preflight without ACAC", "PUT", resp(204, okOrigin, h(acam, "PUT")), resp(200, okOrigin, okCreds))),
		credentialed(preflighted("credentials, preflight and actual pass", "PUT", permissive("PUT", ""), resp(200, okOrigin, okCreds))),
		credentialed(preflighted("credentials, actual ACAO *", "PUT", permissive("PUT", ""), resp(200, okStar, okCreds))),
		credentialed(preflighted("credentials, actual without ACAC", "PUT", permissive("PUT", ""), actualOK)),
		preflighted("preflight ACAO another origin", "PUT", resp(204, h(acao, "http://example.com"), h(acam, "PUT")), actualOK),
		preflighted("preflight ACAO sent twice", "PUT", resp(204, okOrigin, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight passes, actual without ACAO", "PUT", permissive("PUT", ""), noAnswer),
		preflighted("preflight passes, actual ACAO another origin", "PUT", permissive("PUT", ""), resp(200, h(acao, "http://example.com"))),

		// ACMA does not change the verdict.
		preflighted("ACMA not a number", "PUT", permissive("PUT", "", h(acma, "abc")), actualOK),
		preflighted("ACMA negative", "PUT", permissive("PUT", "", h(acma, "-1")), actualOK),
		preflighted("ACMA 600", "PUT", permissive("PUT", "", h(acma, "600")), actualOK),

		// ACEH on the actual response (what the page can read).
		simple("ACEH names a header", "GET", resp(200, okStar, h("X-Exposed", "1"), h("X-Hidden", "1"), h(aceh, "X-Exposed"))),
		simple("ACEH *", "GET", resp(200, okStar, h("X-Exposed", "1"), h(aceh, "*"))),
		credentialed(simple("credentials, ACEH * is a literal name", "GET", resp(200, okOrigin, okCreds, h("X-Exposed", "1"), h(aceh, "*")))),
		simple("no ACEH", "GET", resp(200, okStar, h("X-Exposed", "1"))),
		simple("ACEH invalid list", "GET", resp(200, okStar, h("X-Exposed", "1"), h(aceh, "X-Exposed X-Other"))),

		// Malformed header lines.
		simple("ACAO line with a space before the colon", "GET", resp(200, rawLine(acao+" : *"))),
		simple("ACAO without a space after the colon", "GET", resp(200, rawLine(acao+":*"))),
		simple("ACAO with an obsolete line fold", "GET", resp(200, rawLine(acao+": *\r\n\tfolded"))),
		simple("ACAO with non-ASCII bytes", "GET", resp(200, h(acao, phOrigin+"\xe9"))),

		// Where engines might part: extra safelisted request headers.
		safelistProbe("DPR 2 is safelisted by Chromium", hdr("DPR", "2")),
		safelistProbe("Width 100 is safelisted by Chromium", hdr("Width", "100")),
		safelistProbe("Viewport-Width 100 is safelisted by Chromium", hdr("Viewport-Width", "100")),
		safelistProbe("Device-Memory 8 is safelisted by Chromium", hdr("Device-Memory", "8")),
		safelistProbe("Downlink 1.5 is safelisted by Chromium", hdr("Downlink", "1.5")),
		safelistProbe("RTT 50 is safelisted by Chromium", hdr("RTT", "50")),
		safelistProbe("ECT 4g is safelisted by Chromium", hdr("ECT", "4g")),
		safelistProbe("Save-Data on is safelisted by Chromium", hdr("Save-Data", "on")),
		safelistProbe("Intervention is safelisted by Chromium", hdr("Intervention", "x")),
		safelistProbe("Range unit in upper case", hdr("Range", "BYTES=0-1")),

		// Request header value whitespace and duplicates.
		safelistProbe("Accept padded with spaces is safelisted", hdr("Accept", "  application/json  ")),
		safelistProbe("Content-Type padded with a tab is safelisted", hdr("Content-Type", "\ttext/plain\t")),
		safelistProbe("Accept with an inner tab is safelisted", hdr("Accept", "text/plain,\ttext/html")),
		safelistProbe("Content-Language with an inner space is safelisted", hdr("Content-Language", "de, en")),
		safelistProbe("Content-Type appended twice", hdr("Content-Type", "text/plain"), hdr("Content-Type", "text/plain")),
		safelistProbe("X-Custom appended twice is listed once", hdr("X-Custom", "1"), hdr("X-Custom", "2")),
		safelistProbe("Accept appended twice, 64 bytes each", hdr("Accept", long("a/", 64)), hdr("Accept", long("b/", 64))),

		// More preflight statuses.
		preflighted("preflight 201", "PUT", resp(201, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 203", "PUT", resp(203, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 300 without Location", "PUT", resp(300, okOrigin, h(acam, "PUT")), actualOK),
		preflighted("preflight 303", "PUT", resp(303, okOrigin, h(acam, "PUT"), h("Location", phSelf)), actualOK),
		preflighted("preflight 302 without Location", "PUT", resp(302, okOrigin, h(acam, "PUT")), actualOK),

		// The origin "null" of a sandboxed iframe.
		fromSandbox(simple("sandboxed, ACAO null", "GET", resp(200, h(acao, "null")))),
		fromSandbox(simple("sandboxed, ACAO *", "GET", resp(200, okStar))),
		fromSandbox(simple("sandboxed, ACAO page origin", "GET", actualOK)),
		fromSandbox(simple("sandboxed, no ACAO", "GET", noAnswer)),
		fromSandbox(preflighted("sandboxed, PUT, preflight ACAO null", "PUT",
			resp(204, h(acao, "null"), h(acam, "PUT")), resp(200, h(acao, "null")))),

		// The preflight cache: how many preflights three requests cause.
		repeated(3, "", preflighted("cache: three PUTs, no ACMA", "PUT", permissive("PUT", ""), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA 600", "PUT", permissive("PUT", "", h(acma, "600")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA 0", "PUT", permissive("PUT", "", h(acma, "0")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA -1", "PUT", permissive("PUT", "", h(acma, "-1")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA abc", "PUT", permissive("PUT", "", h(acma, "abc")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA 60abc", "PUT", permissive("PUT", "", h(acma, "60abc")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA +60", "PUT", permissive("PUT", "", h(acma, "+60")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA 1.5", "PUT", permissive("PUT", "", h(acma, "1.5")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA in two headers", "PUT", permissive("PUT", "", h(acma, "60"), h(acma, "60")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, ACMA empty", "PUT", permissive("PUT", "", h(acma, "")), actualOK)),
		repeated(3, "no-store", preflighted("cache: three PUTs, ACMA 600, cache no-store", "PUT", permissive("PUT", "", h(acma, "600")), actualOK)),
		repeated(3, "reload", preflighted("cache: three PUTs, ACMA 600, cache reload", "PUT", permissive("PUT", "", h(acma, "600")), actualOK)),
		repeated(3, "no-cache", preflighted("cache: three PUTs, ACMA 600, cache no-cache", "PUT", permissive("PUT", "", h(acma, "600")), actualOK)),
		repeated(3, "force-cache", preflighted("cache: three PUTs, ACMA 600, cache force-cache", "PUT", permissive("PUT", "", h(acma, "600")), actualOK)),
		repeated(3, "", preflighted("cache: three PUTs, preflight fails", "PUT", resp(204, okOrigin, h(acma, "600")), actualOK)),
		repeated(3, "", preflighted("cache: three X-Custom GETs, ACMA 600", "GET", permissive("GET", "X-Custom", h(acma, "600")), actualOK, hdr("X-Custom", "1"))),

		// Response header lines outside HTTP's syntax, which Go's client
		// rejects: what each engine makes of them (cors.ReadResponseHead).
		simple("response header line with a NUL byte in another header", "GET", resp(200, okOrigin, rawLine("X-Junk: a\x00b"))),
		simple("response header line with a NUL byte ending ACAO", "GET", resp(200, rawLine(acao+": "+phOrigin+"\x00"))),
		simple("response header line with a control byte in another header", "GET", resp(200, okOrigin, rawLine("X-Junk: a\x01b"))),
		simple("response header line with a control byte ending ACAO", "GET", resp(200, rawLine(acao+": "+phOrigin+"\x01"))),
		simple("response header line with DEL in another header", "GET", resp(200, okOrigin, rawLine("X-Junk: a\x7fb"))),
		simple("response header line with a bare CR in another header", "GET", resp(200, okOrigin, rawLine("X-Junk: a\rb"))),
		simple("response header line without a colon", "GET", resp(200, okOrigin, rawLine("NoColon"))),
		simple("response header line with a NUL byte in its name", "GET", resp(200, okOrigin, rawLine("X\x00Junk: 1"))),
		preflighted("response header line with a NUL byte in the preflight", "PUT", permissive("PUT", "", rawLine("X-Junk: a\x00b")), actualOK),
		preflighted("response header line with a control byte in the preflight", "PUT", permissive("PUT", "", rawLine("X-Junk: a\x01b")), actualOK),

		// The 128-byte limit of a safelisted value
		// (https://fetch.spec.whatwg.org/#cors-safelisted-request-header
		// step 1) for each safelisted header, alone and appended twice:
		// Chromium and WebKit judge the combined value ("a, b"), Firefox
		// each value alone.
		safelistProbe("Accept-Language of 128 bytes is safelisted", hdr("Accept-Language", long("en", 128))),
		safelistProbe("Content-Language of 128 bytes is safelisted", hdr("Content-Language", long("de", 128))),
		safelistProbe("Content-Language of 129 bytes is unsafe", hdr("Content-Language", long("de", 129))),
		safelistProbe("Content-Type of 128 bytes is safelisted", hdr("Content-Type", long("text/plain;a=", 128))),
		safelistProbe("Range of 128 bytes is safelisted", hdr("Range", "bytes="+strings.Repeat("0", 128-9)+"1-2")),
		safelistProbe("Range of 129 bytes is unsafe", hdr("Range", "bytes="+strings.Repeat("0", 129-9)+"1-2")),
		safelistProbe("Accept appended twice, 127 bytes combined", hdr("Accept", long("a/", 62)), hdr("Accept", long("b/", 63))),
		safelistProbe("Accept appended twice, 128 bytes combined", hdr("Accept", long("a/", 63)), hdr("Accept", long("b/", 63))),
		safelistProbe("Accept appended twice, 129 bytes combined", hdr("Accept", long("a/", 64)), hdr("Accept", long("b/", 63))),
		safelistProbe("Accept appended twice, 128 bytes each", hdr("Accept", long("a/", 128)), hdr("Accept", long("b/", 128))),
		safelistProbe("Accept-Language appended twice, 128 bytes combined", hdr("Accept-Language", long("en", 63)), hdr("Accept-Language", long("de", 63))),
		safelistProbe("Accept-Language appended twice, 129 bytes combined", hdr("Accept-Language", long("en", 64)), hdr("Accept-Language", long("de", 63))),
		safelistProbe("Content-Language appended twice, 128 bytes combined", hdr("Content-Language", long("en", 63)), hdr("Content-Language", long("de", 63))),
		safelistProbe("Content-Language appended twice, 129 bytes combined", hdr("Content-Language", long("en", 64)), hdr("Content-Language", long("de", 63))),
		safelistProbe("Content-Type appended twice, 128 bytes combined", hdr("Content-Type", long("text/plain;a=", 63)), hdr("Content-Type", long("text/plain;b=", 63))),
		safelistProbe("Content-Type appended twice, 129 bytes combined", hdr("Content-Type", long("text/plain;a=", 64)), hdr("Content-Type", long("text/plain;b=", 63))),
		safelistProbe("Range appended twice", hdr("Range", "bytes=0-1"), hdr("Range", "bytes=2-3")),
	}
	for i, s := range all {
		s.id = fmt.Sprintf("s%03d", i+1)
	}
	return all
}
