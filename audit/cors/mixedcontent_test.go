package cors

import (
	"net/url"
	"testing"
)

func TestIsPotentiallyTrustworthy(t *testing.T) {
	for _, tc := range []struct {
		desc string
		url  string
		want bool
	}{
		{"https", "https://api.example.com/x", true},
		{"wss", "wss://api.example.com/x", true},
		{"http public host", "http://api.example.com/x", false},
		{"http private address (not loopback)", "http://10.0.1.5:8080/x", false},
		{"http 127.0.0.1", "http://127.0.0.1:8080/x", true},
		{"http elsewhere in 127/8", "http://127.10.20.30/x", true},
		{"http ::1", "http://[::1]:8080/x", true},
		{"http localhost", "http://localhost:3000/x", true},
		{"http LOCALHOST. with trailing dot", "http://LOCALHOST./x", true},
		{"http sub.localhost", "http://api.localhost/x", true},
		{"http localhost look-alike", "http://localhost.example.com/x", false},
		{"http 0.0.0.0", "http://0.0.0.0/x", false},
		{"ftp", "ftp://127.0.0.1/x", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if got := isPotentiallyTrustworthy(u); got != tc.want {
			t.Errorf("%s: isPotentiallyTrustworthy(%s) = %v, want %v", tc.desc, tc.url, got, tc.want)
		}
	}
}

func TestMixedContent(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		origin  string
		url     string
		blocked bool
	}{
		{"https page, http URL", "https://app.example.com", "http://api.example.com/v1/cart", true},
		{"HTTPS scheme in upper case", "HTTPS://app.example.com", "http://api.example.com/", true},
		{"https page, https URL", "https://app.example.com", "https://api.example.com/v1", false},
		{"https page, loopback URL", "https://app.example.com", "http://127.0.0.1:8080/v1", false},
		{"https page, ::1 URL", "https://app.example.com", "http://[::1]:8080/v1", false},
		{"https page, localhost URL", "https://app.example.com", "http://localhost:8080/v1", false},
		{"http page, http URL", "http://app.example.com", "http://api.example.com/v1", false},
		{"http localhost page (Chromium: no restriction)", "http://localhost:3000", "http://api.example.com/v1", false},
		{"null origin", "null", "http://api.example.com/v1", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		v, blocked := MixedContent(tc.origin, u)
		if blocked != tc.blocked {
			t.Errorf("%s: blocked %v, want %v", tc.desc, blocked, tc.blocked)
			continue
		}
		if !blocked {
			if v.Reason != "" || v.Message != "" {
				t.Errorf("%s: not blocked but verdict %+v", tc.desc, v)
			}
			continue
		}
		if v.Allowed || v.Reason != ReasonMixedContent || v.Stage != StageRequest {
			t.Errorf("%s: verdict %+v, want blocked at %q with %q", tc.desc, v, StageRequest, ReasonMixedContent)
		}
	}
}

// TestMixedContentMessage pins Chromium's console line, which
// ConsoleMessage returns unchanged (no "blocked by CORS policy" prefix).
func TestMixedContentMessage(t *testing.T) {
	u, _ := url.Parse("http://API.example.com:80/v1/cart?id=1")
	v, blocked := MixedContent("https://app.example.com", u)
	if !blocked {
		t.Fatal("not blocked")
	}
	want := "Mixed Content: The page at 'https://app.example.com/' was loaded over HTTPS, but requested an insecure resource " +
		"'http://api.example.com/v1/cart?id=1'. This request has been blocked; the content must be served over HTTPS."
	if got := ConsoleMessage(Chromium, u.String(), "https://app.example.com", v); got != want {
		t.Errorf("console message\n got %s\nwant %s", got, want)
	}
}
