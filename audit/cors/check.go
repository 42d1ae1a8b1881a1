package cors

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// failure is why a check failed: a reason code and what the browsers'
// messages quote.
type failure struct {
	reason Reason
	// param is what Chromium and Firefox quote: the header value, method
	// or header name, the first invalid token of a list.
	param string
	// value is what WebKit quotes instead of param: the whole value of a
	// list that does not parse, a request header's name as the page set
	// it.
	value string
	// repeated: Access-Control-Allow-Origin was sent more than once.
	repeated bool
	// status is the status of the response that failed (0: none).
	status int
}

// headerValues returns every value of the response header name, matching
// the name case-insensitively even when h was built without canonical keys.
func headerValues(h http.Header, name string) []string {
	if h == nil {
		return nil
	}
	if vs, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return vs
	}
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

// corsCheck implements the CORS check
// (https://fetch.spec.whatwg.org/#cors-check) on response headers h for a
// request from origin, classifying failures as Chromium does
// (services/network/public/cpp/cors/cors.cc, CheckAccess):
//
//  1. ACAO is read as the combined value of all its occurrences
//     (https://fetch.spec.whatwg.org/#concept-header-list-get), trimmed;
//     absent: acao-missing (spec step 2).
//  2. `*` without credentials passes (spec step 3); with credentials it
//     fails: wildcard-credentials
//     (https://fetch.spec.whatwg.org/#cors-protocol-and-credentials).
//  3. Otherwise the value must equal the serialized origin byte for byte
//     (spec step 4). Chromium then tells apart: a value containing " " or
//     "," (several values, including the header sent twice): acao-multiple;
//     "null" or a URL-like value: acao-mismatch; anything else:
//     acao-invalid.
//  4. With credentials, ACAC must be exactly `true`, case-sensitive
//     (spec steps 5-8): acac-missing otherwise.
func corsCheck(h http.Header, origin string, creds bool) *failure {
	acao, present := combined(headerValues(h, ACAO))
	switch {
	case !present:
		return &failure{reason: ReasonACAOMissing}
	case acao == "*":
		if creds {
			return &failure{reason: ReasonWildcardWithCredentials}
		}
		return nil
	case acao != origin:
		switch {
		case strings.ContainsAny(acao, " ,"):
			return &failure{reason: ReasonACAOMultiple, param: acao, repeated: len(headerValues(h, ACAO)) > 1}
		case !acaoValueValid(acao):
			return &failure{reason: ReasonACAOInvalid, param: acao}
		}
		return &failure{reason: ReasonACAOMismatch, param: acao}
	}
	if creds {
		if acac, _ := combined(headerValues(h, ACAC)); acac != "true" {
			return &failure{reason: ReasonACACMissing, param: acac}
		}
	}
	return nil
}

// isOKStatus implements https://fetch.spec.whatwg.org/#ok-status: 200 to 299.
func isOKStatus(status int) bool { return status >= 200 && status <= 299 }

// redirectLocation returns the Location of a response a browser treats as
// a redirect: status 301, 302, 303, 307 or 308 with a Location header
// (https://fetch.spec.whatwg.org/#redirect-status; Chromium's
// HttpResponseHeaders::IsRedirect also needs the Location). Other 3xx
// statuses, or a redirect status without Location, are plain responses.
func redirectLocation(r *Response) (string, bool) {
	switch r.Status {
	case 301, 302, 303, 307, 308:
		loc, ok := combined(headerValues(r.Header, "Location"))
		return loc, ok && loc != ""
	}
	return "", false
}

// containsFold reports whether list has an item equal to s ignoring ASCII case.
func containsFold(list []string, s string) bool {
	for _, item := range list {
		if strings.EqualFold(item, s) {
			return true
		}
	}
	return false
}

// preflightResult is the outcome of checking one preflight response.
type preflightResult struct {
	fail  *failure
	cache string // non-empty: how b's cache lifetime differs from the spec's
	// divergences says where b's decision differs from the standard's.
	divergences []string
}

// checkPreflight implements the CORS-preflight fetch's checks
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch steps 7-8) in
// Chromium's order (services/network/cors/preflight_controller.cc):
//
//  1. A redirect is never followed: preflight-redirect. (In the standard
//     the 3xx is simply not an ok status.)
//  2. The CORS check (step 7), with the actual request's credentials mode.
//  3. An ok status, 200-299 (step 7): preflight-status otherwise.
//  4. ACAM and ACAH are parsed as lists of tokens (steps 7.1-7.3):
//     acam-invalid, acah-invalid.
//  5. The method (step 7.5) must be in ACAM byte for byte, be
//     CORS-safelisted, or ACAM must contain `*` and credentials be off:
//     method-not-allowed.
//  6. The headers (steps 7.6-7.7): every CORS-unsafe request-header name
//     must be in ACAH case-insensitively, unless ACAH contains `*` and
//     credentials are off; `Authorization`, the one CORS non-wildcard
//     request-header name (https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name),
//     must be listed explicitly even under `*`. No engine enforces that
//     last rule: Chromium 156 (feature CorsNonWildcardRequestHeadersSupport
//     is disabled by default), Firefox ESR 153 and WebKitGTK 2.50 (checked
//     by the conformance suite) let Authorization through under `*`.
func checkPreflight(b Browser, r Request, method string, list []Header, unsafe []string, p *Response) preflightResult {
	if _, ok := redirectLocation(p); ok {
		return preflightResult{fail: &failure{reason: ReasonPreflightRedirect}}
	}
	if f := corsCheck(p.Header, r.Origin, r.Credentials); f != nil {
		return preflightResult{fail: f}
	}
	if !isOKStatus(p.Status) {
		return preflightResult{fail: &failure{reason: ReasonPreflightStatus, param: fmt.Sprint(p.Status)}}
	}
	methods, ok := ParseList(headerValues(p.Header, ACAM))
	if !ok {
		return preflightResult{fail: invalidList(ReasonACAMInvalid, headerValues(p.Header, ACAM))}
	}
	headers, ok := ParseList(headerValues(p.Header, ACAH))
	if !ok {
		return preflightResult{fail: invalidList(ReasonACAHInvalid, headerValues(p.Header, ACAH))}
	}
	wildcardMethods := !r.Credentials && slices.Contains(methods, "*")
	if !slices.Contains(methods, method) && !isSafelistedMethod(method) && !wildcardMethods {
		return preflightResult{fail: &failure{reason: ReasonMethodNotAllowed, param: method}}
	}
	var res preflightResult
	wildcardHeaders := !r.Credentials && slices.Contains(headers, "*")
	hasAuth := false
	for _, h := range list {
		if strings.EqualFold(h.Name, "authorization") {
			hasAuth = true
		}
	}
	if hasAuth && !containsFold(headers, "authorization") && wildcardHeaders {
		if b == Spec {
			return preflightResult{fail: &failure{reason: ReasonHeaderNotAllowed, param: "authorization"}}
		}
		res.divergences = append(res.divergences, browserName(b)+" lets the Authorization header through under "+
			"`Access-Control-Allow-Headers: *`; the Fetch standard requires `authorization` to be listed explicitly")
	}
	if !wildcardHeaders {
		for _, n := range unsafe {
			if !containsFold(headers, n) {
				return preflightResult{fail: &failure{reason: ReasonHeaderNotAllowed, param: n, value: nameAsSet(list, n)}}
			}
		}
	}
	return res
}

// nameAsSet is the name of the first header of list named n (any case),
// as the page set it.
func nameAsSet(list []Header, n string) string {
	for _, h := range list {
		if strings.EqualFold(h.Name, n) {
			return h.Name
		}
	}
	return n
}

// invalidList is the failure of a list header, values, that does not
// parse: its first invalid token and its whole value.
func invalidList(reason Reason, values []string) *failure {
	f := &failure{reason: reason}
	f.value, _ = combined(values)
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = trimOWS(part); part != "" && !IsToken(part) && f.param == "" {
				f.param = part
			}
		}
	}
	return f
}

// Evaluate decides what browser b does with request r given the responses
// received: preflight is the response to the preflight (nil when none was
// sent or none was received), actual the response to the actual request
// (nil when it was not sent).
//
//   - When b sends a preflight for r (PlanPreflightFor) and preflight is
//     nil, the verdict is blocked with no-response: the browser got a
//     network error.
//   - A failing preflight blocks at stage "preflight"; a passing one sets
//     CacheLifetime (MaxAge).
//   - When actual is nil the verdict rests on the preflight alone: Allowed
//     means "the preflight passes" (or, without preflight, that nothing
//     blocks the request before a response; Note says nothing was checked).
//   - Otherwise the CORS check runs on actual (stage "actual"), whatever
//     its status. A redirect (301/302/303/307/308 with Location) is checked
//     as is, since the standard runs the CORS check before following
//     (https://fetch.spec.whatwg.org/#http-fetch step 5 then
//     https://fetch.spec.whatwg.org/#http-redirect-fetch); Note says the
//     redirect target was not checked.
//   - Exposed lists the response headers the page can read.
//
// SpecNote is set when b's verdict differs from the Fetch standard's.
func Evaluate(b Browser, r Request, preflight, actual *Response) Verdict {
	return decide(b, r, preflight, actual, false)
}

// EvaluateActual decides what browser b does with the response to the
// actual request of r once a preflight, if r needs one, has passed: the
// CORS check of actual alone (stage "actual"), as Evaluate runs it after
// the preflight's checks. It judges a load balancer's routes one at a
// time when the preflight and the actual request go to different pools:
// the preflight is judged with Evaluate (actual nil) where it goes, the
// actual request with EvaluateActual where it goes. Preflight in the
// verdict still says whether r needs a preflight; CacheLifetime is 0.
func EvaluateActual(b Browser, r Request, actual *Response) Verdict {
	return decide(b, r, nil, actual, true)
}

// decide is Evaluate, or EvaluateActual when actualOnly, with SpecNote.
func decide(b Browser, r Request, preflight, actual *Response, actualOnly bool) Verdict {
	b = b.known()
	v, divergences := evaluate(b, r, preflight, actual, actualOnly)
	if b == Spec {
		return v
	}
	s, _ := evaluate(Spec, r, preflight, actual, actualOnly)
	var notes []string
	if s.Allowed != v.Allowed || s.Preflight != v.Preflight || s.Reason != v.Reason {
		notes = append(notes, divergences...)
		if len(divergences) == 0 {
			notes = append(notes, "the Fetch standard's verdict differs")
		}
		notes = append(notes, "spec verdict: "+verdictPhrase(s))
	}
	if cn := cacheDivergence(b, preflight, v, s); cn != "" {
		notes = append(notes, cn)
	}
	v.SpecNote = strings.Join(notes, "; ")
	return v
}

// verdictPhrase describes a verdict in a few words.
func verdictPhrase(v Verdict) string {
	pre := "no preflight"
	if v.Preflight {
		pre = "preflight"
	}
	if v.Allowed {
		return "allowed (" + pre + ")"
	}
	return fmt.Sprintf("blocked at %s, %s (%s)", v.Stage, v.Reason, pre)
}

// cacheDivergence explains a preflight cache lifetime that differs from the
// standard's for a reason other than a user-agent cap, which the standard
// permits.
func cacheDivergence(b Browser, preflight *Response, v, s Verdict) string {
	if preflight == nil || !v.Allowed || !s.Allowed || !v.Preflight || v.CacheLifetime == s.CacheLifetime {
		return ""
	}
	if c := maxAgeCap(b); c > 0 && v.CacheLifetime == c && s.CacheLifetime > c {
		return ""
	}
	_, note := maxAge(b, headerValues(preflight.Header, ACMA))
	return fmt.Sprintf("%s; the Fetch standard caches it for %s", note, s.CacheLifetime)
}

// evaluate is Evaluate for one browser, without SpecNote (EvaluateActual
// when actualOnly: the preflight's checks are skipped); it also returns
// the notes explaining where b departs from the standard.
func evaluate(b Browser, r Request, preflight, actual *Response, actualOnly bool) (Verdict, []string) {
	if IsForbiddenMethod(r.Method) || !isMethodToken(r.Method) {
		return Verdict{Stage: StagePreflight, Reason: ReasonForbiddenMethod,
			Message: message(b, r, StagePreflight, &failure{reason: ReasonForbiddenMethod, param: r.Method})}, nil
	}
	var divergences []string
	method := NormalizeMethod(r.Method)
	list := authorHeaders(b, r.Headers)
	unsafe := unsafeNames(b, list)
	plan := PlanPreflightFor(b, r)
	divergences = append(divergences, headerDivergences(b, r)...)
	v := Verdict{Preflight: plan.Needed}
	block := func(stage string, f *failure) (Verdict, []string) {
		switch {
		case f.reason == ReasonInvalidResponse:
			// A network error: the browser reads no status.
		case stage == StagePreflight && preflight != nil:
			f.status = preflight.Status
		case stage == StageActual:
			f.status = actual.Status
		}
		v.Allowed, v.Stage, v.Reason, v.Status = false, stage, f.reason, f.status
		v.Message = message(b, r, stage, f)
		v.CacheLifetime = 0
		return v, divergences
	}
	if plan.Needed && !actualOnly {
		if preflight == nil {
			return block(StagePreflight, &failure{reason: ReasonNoResponse})
		}
		if preflight.Invalid != "" {
			return block(StagePreflight, &failure{reason: ReasonInvalidResponse, param: preflight.Invalid})
		}
		res := checkPreflight(b, r, method, list, unsafe, preflight)
		divergences = append(divergences, res.divergences...)
		if res.fail != nil {
			return block(StagePreflight, res.fail)
		}
		v.CacheLifetime, _ = maxAge(b, headerValues(preflight.Header, ACMA))
	}
	if actual == nil {
		v.Allowed = true
		if plan.Needed && !actualOnly {
			v.Note = "the actual request was not sent: the verdict is the preflight's"
		} else {
			v.Note = "no preflight and the actual request was not sent: no response was checked"
		}
		return v, divergences
	}
	if actual.Invalid != "" {
		return block(StageActual, &failure{reason: ReasonInvalidResponse, param: actual.Invalid})
	}
	if f := corsCheck(actual.Header, r.Origin, r.Credentials); f != nil {
		return block(StageActual, f)
	}
	v.Allowed = true
	if loc, ok := redirectLocation(actual); ok {
		v.Note = fmt.Sprintf("the actual response is a %d redirect to %q: it passes the CORS check, "+
			"but corsaudit does not follow redirects, so the redirect target was not checked", actual.Status, loc)
		return v, divergences
	}
	v.Exposed = exposedHeaders(actual.Header, r.Credentials)
	return v, divergences
}

// browserName is b's name as the notes print it.
func browserName(b Browser) string {
	switch b {
	case Chromium:
		return "Chromium"
	case Firefox:
		return "Firefox"
	case Webkit:
		return "WebKit"
	}
	return "the Fetch standard"
}

// headerDivergences explains where browser b's request header list and
// safelist differ from the standard's for r.
func headerDivergences(b Browser, r Request) []string {
	if b == Spec {
		return nil
	}
	var out []string
	seen := map[string]int{}
	total := 0
	for _, h := range r.Headers {
		v := trimHTTPWhitespace(h.Value)
		if IsForbiddenRequestHeader(h.Name, v) {
			continue
		}
		n := strings.ToLower(h.Name)
		seen[n]++
		if isSafelistedRequestHeader(n, v) {
			total += len(v)
		}
		if seen[n] == 1 && b == Chromium && chromiumOnlySafelisted(n) && isSafelistedFor(Chromium, n, v) {
			out = append(out, fmt.Sprintf("Chromium treats %q as a CORS-safelisted request header; the Fetch standard does not", n))
		}
		if seen[n] == 1 && b == Webkit && n == "range" && isSimpleRange(v, true) && !isSimpleRange(v, false) {
			out = append(out, "WebKit accepts a Range unit in any case; the Fetch standard requires `bytes=`")
		}
		if seen[n] == 2 && combinesRepeated(b) {
			out = append(out, fmt.Sprintf("%s checks the %q headers combined into one value; the Fetch standard checks each value on its own", browserName(b), n))
		}
	}
	if b == Firefox && total > maxSafelistedTotal {
		out = append(out, "Firefox does not apply the Fetch standard's 1024-byte limit on the safelisted request header values together")
	}
	return out
}
