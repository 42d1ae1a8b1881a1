package report

import "github.com/corsaudit/corsaudit/diff"

// kindHelp is each finding kind's one-line title and explanation, used as
// SARIF rule descriptions and help and as HTML tooltips. It follows the
// README's table of finding kinds.
var kindHelp = map[diff.Kind]struct{ title, help string }{
	diff.KindVerdictDrift: {"Instances disagree on the CORS verdict",
		"A browser would allow the request on some instances and block it on others. These are the intermittent CORS failures users report: whether a request works depends on which instance the load balancer picks."},
	diff.KindHeaderDrift: {"Instances send different CORS headers",
		"Instances agree on the verdict but send different CORS headers (e.g. Access-Control-Max-Age, an extra allowed method). Harmless today, usually the first sign of config drift."},
	diff.KindSplit: {"No majority answer among instances",
		"No strict majority: an exact 2-2 split, or three different answers. corsaudit does not pick a winner; someone must decide which answer is right."},
	diff.KindUnreachable: {"Instance or load balancer unreachable",
		"An instance (or the load balancer) gave no HTTP answer: refused, timeout, TLS, reset. It is left out of every majority."},
	diff.KindLBRedirect: {"Load balancer redirects preflights",
		"The load balancer answers OPTIONS with a 3xx (an http-to-https or canonical-host rule). Browsers reject every redirected preflight, so every non-simple request fails."},
	diff.KindLBAnswersOptions: {"Load balancer answers preflights itself",
		"The load balancer answers preflights itself, with CORS headers no instance sends: the instances' CORS config is not what browsers see."},
	diff.KindLBMismatch: {"Load balancer answers differ from the instances",
		"Answers through the load balancer differ from the instances' majority; the finding gives the share of requests affected (the intermittency users see) and which instances served them."},
	diff.KindCacheLeak: {"Cache serves one origin's answer to another",
		"A cache in front of the instances served the answer made for one origin to another origin: it ignores Vary: Origin or keys without the Origin."},
	diff.KindVaryMissing: {"Origin-dependent answer without Vary: Origin",
		"An instance's Access-Control-Allow-Origin depends on the request's Origin but the answer lacks Vary: Origin, so any shared cache can mix origins up."},
	diff.KindPolicyViolation: {"Fleet answer contradicts the declared policy",
		"The fleet agrees, but with something the declared policy does not say: it blocks an allowed origin, method or header, or allows one the policy does not list."},
	diff.KindOriginReflection: {"Arbitrary origin reflected",
		"An instance echoes any Origin in Access-Control-Allow-Origin: every web site can read its responses."},
	diff.KindNullOrigin: {"The null origin is trusted",
		"An instance trusts the null origin, which sandboxed iframes and data: pages of any site can send."},
	diff.KindBypassOrigin: {"Look-alike origin trusted",
		"An instance trusts an origin that only resembles an allowed one (app.example.com.evil.example, evilapp.example.com): its origin check is a prefix, suffix or unanchored regex match."},
	diff.KindInsecureOrigin: {"http:// origin trusted by an https service",
		"An https service trusts an http:// origin, which any network attacker can impersonate."},
	diff.KindWildcardCredentials: {"Wildcard origin with credentials",
		"Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true. Browsers refuse it, but it shows the intent to allow every origin with credentials."},
	diff.KindInvalidHeader: {"CORS header browsers cannot parse",
		"A CORS header browsers cannot parse: several Access-Control-Allow-Origin values (often a load balancer adding its own on top of the instance's), an unparsable list."},
	diff.KindSkipped: {"Instance not probed",
		"The provider listed an instance corsaudit cannot probe (a Lambda target, an unused target)."},
}

// title is the kind's one-line title, or the kind itself when unknown (a
// report written by a newer corsaudit).
func title(k diff.Kind) string {
	if h, ok := kindHelp[k]; ok {
		return h.title
	}
	return string(k)
}
