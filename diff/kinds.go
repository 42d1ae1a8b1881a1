package diff

// Kind is a finding's stable name, used in JSON and by scripts.
type Kind string

// Finding kinds (DESIGN.md). Each has a row in Kinds.
const (
	KindVerdictDrift     Kind = "verdict-drift"
	KindHeaderDrift      Kind = "header-drift"
	KindSplit            Kind = "split"
	KindUnreachable      Kind = "unreachable"
	KindLBRedirect       Kind = "lb-redirect"
	KindLBAnswersOptions Kind = "lb-answers-options"
	KindLBMismatch       Kind = "lb-mismatch"
	// KindLBChangesHeaders: a front passes the instances' answers on with
	// other CORS headers, browsers deciding the same (a Vary dropped, a
	// Max-Age rewritten).
	KindLBChangesHeaders Kind = "lb-changes-headers"
	// KindProtocolMismatch: a front answers otherwise over HTTP/2 than
	// over HTTP/1.1.
	KindProtocolMismatch Kind = "protocol-mismatch"
	KindCacheLeak        Kind = "cache-leak"
	// KindCacheNoOrigin: an answer fetched without Origin is cached and
	// served to an allowed origin.
	KindCacheNoOrigin Kind = "cache-no-origin"
	// KindCacheRefusal: a refusal (an answer for a disallowed origin) is
	// cached and served to an allowed origin.
	KindCacheRefusal Kind = "cache-refusal"
	// KindCachePreflightKey: a preflight answer is cached without the
	// requested method and headers in its key.
	KindCachePreflightKey Kind = "cache-preflight-key"
	// KindCacheRevalidation: a 304 answers a revalidation without the
	// CORS headers of the 200.
	KindCacheRevalidation   Kind = "cache-revalidation"
	KindVaryMissing         Kind = "vary-missing"
	KindPolicyViolation     Kind = "policy-violation"
	KindOriginReflection    Kind = "origin-reflection"
	KindNullOrigin          Kind = "null-origin"
	KindBypassOrigin        Kind = "bypass-origin"
	KindInsecureOrigin      Kind = "insecure-origin"
	KindWildcardCredentials Kind = "wildcard-credentials"
	KindInvalidHeader       Kind = "invalid-header"
	KindErrorWithoutCORS    Kind = "error-without-cors"
	// KindConfigCORSHeaders: a front's configuration sets CORS headers
	// itself (ALB listener attributes, GCP customResponseHeaders).
	KindConfigCORSHeaders Kind = "config-cors-headers"
	// KindConfigCacheKey: a CDN's cache key leaves out the Origin (Cloud
	// CDN's cacheKeyPolicy).
	KindConfigCacheKey Kind = "config-cache-key"
	// KindConfigPreflightLogin: an identity-aware proxy sends preflights
	// to its login (IAP without allowHttpOptions).
	KindConfigPreflightLogin Kind = "config-preflight-login"
	// KindConfigUnread: the provider could not read part of a front's
	// configuration (a permission not granted); the probes still ran.
	KindConfigUnread Kind = "config-unread"
	// KindUnauditedRoute: the load balancer sends a step of a probe where
	// no audited instance answers it (a backend bucket, a pool nobody
	// discovered, an answer of its own).
	KindUnauditedRoute Kind = "unaudited-route"
	// KindSkipped: an instance the provider listed but corsaudit cannot
	// probe (a lambda target, an unused target).
	KindSkipped Kind = "skipped"
)

// KindInfo is what corsaudit says about a finding kind: its default
// severity (a check may raise or lower it for one finding), a one-line
// title and a one-paragraph explanation (SARIF rules, HTML tooltips, the
// README's table of finding kinds).
type KindInfo struct {
	Kind     Kind
	Severity Severity
	Title    string
	Help     string
}

// Kinds is the one table of finding kinds, sorted by name.
var Kinds = []KindInfo{
	{KindBypassOrigin, SeverityError, "Look-alike origin trusted",
		"An instance trusts an origin that only resembles an allowed one (app.example.com.evil.example, evilapp.example.com): its origin check is a prefix, suffix or unanchored regex match."},
	{KindCacheLeak, SeverityError, "Cache serves one origin's answer to another",
		"A cache in front of the instances served the answer made for one allowed origin to another origin (the cache probe matrix: an allowed origin first, then another allowed one, then the disallowed one; GET and preflight): it keys without the Origin and ignores Vary: Origin. An error when the second origin's verdict changes (another allowed origin is blocked), a warning when it does not (the disallowed origin is blocked either way: the cache still ignores the Origin). The finding names the first layer in front that does it."},
	{KindCacheNoOrigin, SeverityError, "Cache serves an answer fetched without Origin to a cross-origin page",
		"A response fetched without an Origin header (a same-origin page, an <img>, a crawler, a server) was cached without Access-Control-Allow-Origin and served to a page on an allowed origin, which the browser then blocks until the entry expires. The cache keys on the URL alone and ignores Vary: Origin."},
	{KindCachePreflightKey, SeverityError, "Cache keys preflights without the requested method and headers",
		"A cache answered a preflight for one method and request headers with the answer it stored for another (Access-Control-Request-Method and -Headers are not in its key): an error when that blocks the second request, a warning when browsers decide the same."},
	{KindCacheRefusal, SeverityError, "Cache serves a refusal to an allowed origin",
		"A cache stored the answer made for a disallowed origin (no Access-Control-Allow-Origin) and served it to an allowed origin: whoever calls first with a wrong Origin breaks the page for every user until the entry expires."},
	{KindCacheRevalidation, SeverityWarning, "304 revalidation drops the CORS headers",
		"A conditional request (If-None-Match, If-Modified-Since) from an allowed origin got a 304 without the Access-Control-Allow-Origin its 200 had. Browsers that merge the 304 into the copy they revalidated keep the 200's headers, so a warning; a page that revalidates itself, or a cache in front that passes the 304 on, gets an answer browsers block."},
	{KindConfigCacheKey, SeverityWarning, "CDN cache key without the Origin",
		"What the provider read of the load balancer's configuration: Cloud CDN is enabled on the backend service with a cache key (cdnPolicy.cacheKeyPolicy.includeHttpHeaders) that leaves out the Origin, so only a Vary: Origin on every answer keeps origins apart. The finding names the backend service, its cache mode and key, and the cache probe findings it explains (cache-leak, cache-no-origin, cache-refusal...); a warning, since the probes say what users lose."},
	{KindConfigCORSHeaders, SeverityWarning, "A front's configuration sets CORS headers",
		"What the provider read of the load balancer's configuration: ALB listener attributes routing.http.response.access_control_* or GCP backend service customResponseHeaders put fixed CORS headers on its answers, whatever the instances send. The finding names the listener or backend service and the values, and the probe findings it explains (lb-mismatch, lb-answers-options, invalid-header...); a warning, since the probes say what users lose."},
	{KindConfigPreflightLogin, SeverityError, "Identity-Aware Proxy sends preflights to its login",
		"What the provider read of the load balancer's configuration: Identity-Aware Proxy is enabled on the backend service without accessSettings.corsSettings.allowHttpOptions, so every preflight (which never carries the login cookie) is redirected to the login page and every non-simple request fails. The finding names the backend service and the lb-redirect it explains."},
	{KindConfigUnread, SeverityInfo, "A front's configuration could not be read",
		"The provider could not read part of the load balancer's configuration that corsaudit checks (ALB listener attributes, IAP settings), most often because a permission is not granted. The finding names the resource and the reason (the permission to grant); the probes ran as usual, so what users see is still audited, only the config findings that would explain it are missing. Info: the run is complete without it."},
	{KindErrorWithoutCORS, SeverityWarning, "Error responses without CORS headers",
		"Instances answer the actual request of an allowed origin with an error status (4xx, 5xx) that lacks Access-Control-Allow-Origin, often nginx add_header without always. The browser then hides the response: the page sees a network error instead of the status, so it cannot tell an expired login (401) from an outage, nor show the server's message. A warning: requests that succeed are unaffected. Without auth, an endpoint behind a login reports its anonymous 401 this way rather than as a policy-violation; configure auth to audit the logged-in answer."},
	{KindHeaderDrift, SeverityWarning, "Instances send different CORS headers",
		"Instances agree on the verdict but send different CORS headers (e.g. Access-Control-Max-Age, an extra allowed method) or block for different reasons. Harmless today, usually the first sign of config drift."},
	{KindInsecureOrigin, SeverityWarning, "http:// origin trusted by an https service",
		"An https service trusts an http:// origin, which any network attacker can impersonate."},
	{KindInvalidHeader, SeverityError, "CORS header browsers cannot parse",
		"A CORS header browsers cannot parse: several Access-Control-Allow-Origin values (often a load balancer adding its own on top of the instance's), an unparsable list."},
	{KindLBAnswersOptions, SeverityWarning, "Load balancer answers preflights itself",
		"The load balancer (or another front) answers preflights itself: the instances' CORS config is not what browsers see. Said only on evidence: the configured instance header absent where every instance sends it, a status the instances never give that preflight, or an Access-Control-* header no instance sends; an answer that only differs from the instances' is lb-changes-headers or lb-mismatch. An error when its answer changes the browser's verdict (blocks what the instances allow, or allows what they block), a warning when the verdict stays the same. A rule that answers OPTIONS with a fixed response is found from the routes alone (naming the rule): an error, since that answer has no CORS headers and every preflight fails."},
	{KindLBChangesHeaders, SeverityWarning, "A front changes the instances' CORS headers",
		"A layer in front of the instances (CDN, cache, load balancer) passes their answers on with other CORS headers, browsers deciding the same: a Vary: Origin dropped, an Access-Control-Max-Age rewritten. The finding names the first layer that changes them and what it changes. A warning; an error when a dropped Vary: Origin goes with a cache probe through that layer (or one in front of it) that shows the harm."},
	{KindLBMismatch, SeverityError, "Load balancer answers differ from the instances",
		"Answers through the load balancer differ from the instances' majority; the finding gives the share of requests affected (the intermittency users see) and which instance served the step that decided. An error when the verdict differs, a warning when only the reason does. When the answer is the serving instance's own, passed through, the finding about that instance covers it (explains lists lb-mismatch, share says how many requests); on its own it is what the load balancer changes."},
	{KindLBRedirect, SeverityError, "Load balancer redirects preflights",
		"The load balancer answers OPTIONS with a 3xx (an http-to-https or canonical-host rule), or its rules redirect preflights or send them to an identity provider (found from the routes alone, naming the rule). Browsers reject every redirected preflight, so every non-simple request fails."},
	{KindNullOrigin, SeverityError, "The null origin is trusted",
		"An instance trusts the null origin, which sandboxed iframes and data: pages of any site can send."},
	{KindOriginReflection, SeverityError, "Arbitrary origin reflected",
		"An instance echoes any Origin in Access-Control-Allow-Origin: every web site can read its responses."},
	{KindPolicyViolation, SeverityError, "Instances contradict the declared policy",
		"Instances decide otherwise than the declared policy: they block an allowed origin, method or header, or allow one the policy does not list."},
	{KindProtocolMismatch, SeverityWarning, "Answers over HTTP/2 differ from HTTP/1.1",
		"A front answers otherwise over HTTP/2, which browsers use when it offers it over TLS, than over HTTP/1.1, which many monitors and scripts use (a rule in one protocol's code path only). An error when the verdict differs, a warning when only the headers do."},
	{KindSkipped, SeverityInfo, "Instance not probed",
		"The provider listed an instance corsaudit cannot probe (a Lambda target, an unused target)."},
	{KindSplit, SeverityError, "No majority answer among instances",
		"No strict majority: an exact 2-2 split, or three different answers. Without a policy expectation or a baseline corsaudit does not pick a winner; someone must decide which answer is right."},
	{KindUnreachable, SeverityError, "Instance or load balancer unreachable",
		"An instance (or the load balancer) gave no HTTP answer to any request it was sent: refused, timeout, TLS, reset. It is left out of every majority. An instance that failed only some requests is a warning."},
	{KindUnauditedRoute, SeverityWarning, "Request routed where corsaudit audits nothing",
		"The load balancer's routes (ALB listener rules, GCP URL map) send a probed request where no discovered instance answers it: a backend bucket, a pool whose instances were not discovered (add its source under discover:), or an answer of the load balancer's own (a fixed response, a redirect of the actual request, which a browser fails unless it carries CORS headers). Found from the routes alone, without sending a request; the finding names the rule. A warning: what serves that request is not audited."},
	{KindVaryMissing, SeverityWarning, "Origin-dependent answer without Vary: Origin",
		"An instance's Access-Control-Allow-Origin depends on the request's Origin but the answer lacks Vary: Origin, so any shared cache can mix origins up."},
	{KindVerdictDrift, SeverityError, "Instances disagree on the CORS verdict",
		"A browser would allow the request on some instances and block it on others. These are the intermittent CORS failures users report: whether a request works depends on which instance the load balancer picks. One finding per cause: the instances and the header difference that sets them apart, on every path, with the other requests they answer differently (header-drift) and the requests through the load balancer that land on them (lb-mismatch, its share), listed in explains."},
	{KindWildcardCredentials, SeverityWarning, "Wildcard origin with credentials",
		"Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true. Browsers refuse it, but it shows the intent to allow every origin with credentials."},
}

// Info is the kind's row in Kinds (false for a kind this version does not
// know, e.g. from a report written by a newer corsaudit).
func (k Kind) Info() (KindInfo, bool) {
	for _, ki := range Kinds {
		if ki.Kind == k {
			return ki, true
		}
	}
	return KindInfo{Kind: k}, false
}

// DefaultSeverity is the kind's severity unless a check raises or lowers it
// ("" for an unknown kind).
func (k Kind) DefaultSeverity() Severity {
	ki, _ := k.Info()
	return ki.Severity
}

// Title is the kind's one-line title, or the kind itself when unknown.
func (k Kind) Title() string {
	if ki, ok := k.Info(); ok {
		return ki.Title
	}
	return string(k)
}
