package cors

// PreflightsSent returns how many preflights browser b sends for n
// identical fetch() calls made one after the other, well within the
// preflight's cache lifetime, with fetch()'s cache mode mode ("" is
// "default"), given v, the Verdict of one of them (Evaluate).
//
// No preflight: none. A blocked request's preflight result is not cached
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch step 7 caches only
// after every check passed): every call sends one. A passing preflight is
// cached for v.CacheLifetime; 0 means every call sends one again.
func PreflightsSent(b Browser, v Verdict, mode string, n int) int {
	if n <= 0 || !v.Preflight {
		return 0
	}
	if !v.Allowed || v.CacheLifetime == 0 || !preflightCacheUsed(b.known(), mode) {
		return n
	}
	return 1
}

// preflightCacheUsed reports whether browser b looks its preflight cache up
// for a fetch() with cache mode mode. The standard consults the cache
// whatever the mode (https://fetch.spec.whatwg.org/#http-fetch step 4.1),
// and so does WebKit. Chromium bypasses it when the request bypasses or
// revalidates the HTTP cache (cache modes no-store, reload and no-cache:
// net::LOAD_DISABLE_CACHE, LOAD_BYPASS_CACHE, LOAD_VALIDATE_CACHE), Firefox
// for no-store and reload (LOAD_BYPASS_CACHE); each checked by the
// conformance suite.
func preflightCacheUsed(b Browser, mode string) bool {
	switch b {
	case Chromium:
		return mode != "no-store" && mode != "reload" && mode != "no-cache"
	case Firefox:
		return mode != "no-store" && mode != "reload"
	}
	return true
}
