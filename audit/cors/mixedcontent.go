package cors

import (
	"net"
	"net/url"
	"strings"
)

// Mixed content: a page delivered over https may not fetch() an http URL.
// The browser blocks the request before sending anything, CORS or not
// (https://w3c.github.io/webappsec-mixed-content/, "Should fetching request
// be blocked as mixed content?"): fetch() is blockable content, which no
// browser upgrades or lets through. The one exception is a URL that is
// potentially trustworthy (isPotentiallyTrustworthy).
//
// What is modelled is Chromium's rule (MixedContentChecker::IsMixedContent
// in third_party/blink/renderer/core/loader/mixed_content_checker.cc): only
// a page whose origin's scheme is https restricts mixed content. The
// standard goes further: a page on any potentially trustworthy origin
// (http://localhost too) prohibits mixed security contexts; Chromium does
// not apply that to http pages, and neither does this model. The rule and
// the console line are checked against headless Chromium in
// ./conformance (TestChromiumMixedContent).
//
// Not modelled: Private Network Access / Local Network Access (a public
// page fetching a private or loopback address, which newer Chromium gates
// behind a preflight or a permission prompt), and browsers' settings that
// allow mixed content per site.

// ReasonMixedContent: the page is on an https origin and the URL is an
// insecure http URL that is not potentially trustworthy; nothing is sent.
const ReasonMixedContent Reason = "mixed-content"

// StageRequest is the Stage of a Verdict blocked before any request is sent
// (mixed content).
const StageRequest = "request"

// isPotentiallyTrustworthy reports whether u is a potentially trustworthy
// URL (https://w3c.github.io/webappsec-secure-contexts/#potentially-trustworthy-url,
// "Is origin potentially trustworthy?"): its scheme is https or wss, or its
// host is a loopback address (127.0.0.0/8, ::1) or localhost (localhost and
// *.localhost, which browsers resolve to loopback themselves).
func isPotentiallyTrustworthy(u *url.URL) bool {
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		return true
	case "http", "ws":
	default:
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MixedContent returns the blocked verdict of a fetch() from a page on
// origin to u when the browser blocks it as mixed content, and false when
// mixed content does not apply: the origin is not https (or not an origin,
// e.g. "null"), or u is potentially trustworthy. Every modelled browser
// blocks it the same way; Message is Chromium's console line, which for
// this reason is the whole line (ConsoleMessage returns it as is).
func MixedContent(origin string, u *url.URL) (Verdict, bool) {
	o, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(o.Scheme, "https") || isPotentiallyTrustworthy(u) {
		return Verdict{}, false
	}
	return Verdict{Stage: StageRequest, Reason: ReasonMixedContent, Message: mixedContentMessage(origin, u.String())}, true
}

// mixedContentMessage is what Chromium prints for a blocked fetch()
// (MixedContentChecker::LogToConsoleAboutFetch: the request context of
// fetch() is named "resource"; the page is the origin's root, which is all
// corsaudit knows of it).
func mixedContentMessage(origin, rawURL string) string {
	return "Mixed Content: The page at '" + canonicalURL(origin) + "' was loaded over HTTPS, but requested an insecure resource '" +
		canonicalURL(rawURL) + "'. This request has been blocked; the content must be served over HTTPS."
}
