package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// TargetURL parses the public URL of a target — from the config, the
// command line, `check` or an inventory — and is the one place that says
// what such a URL may be: absolute, http or https, with a host, and
// without a user name or password (browsers never send one with fetch():
// the Fetch standard fails a request whose URL includes credentials). Its
// messages never show a user name or password (ShowURL).
func TargetURL(raw string) (*url.URL, error) {
	shown := ShowURL(raw)
	u, err := url.Parse(raw)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error quotes the whole URL
	}
	switch {
	case hasUserinfo(raw) || err == nil && u.User != nil:
		return nil, fmt.Errorf("%q has a user name or password: browsers never send one with fetch(); give the URL without it (a credential goes in auth:)", shown)
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %w", shown, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", shown)
	}
	return u, nil
}

// ShowURL is raw with any user name and password left out, for messages,
// whether or not raw parses: "https://user:pw@host/x" shows as
// "https://host/x".
func ShowURL(raw string) string {
	start, end := authority(raw)
	if at := strings.LastIndexByte(raw[start:end], '@'); at >= 0 {
		return raw[:start] + raw[start+at+1:]
	}
	return raw
}

// hasUserinfo reports whether the authority of raw holds an '@'.
func hasUserinfo(raw string) bool {
	start, end := authority(raw)
	return strings.Contains(raw[start:end], "@")
}

// authority is where the authority (userinfo@host:port) of raw starts and
// ends: after "scheme://" (or at the start of a URL written without a
// scheme), up to the first '/', '?' or '#'.
func authority(raw string) (start, end int) {
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	end = len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	return start, end
}
