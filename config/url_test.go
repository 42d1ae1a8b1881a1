package config

import (
	"strings"
	"testing"
)

func TestTargetURL(t *testing.T) {
	for _, tc := range []struct{ desc, in, want string }{
		{"https", "https://api.example.com/v1?x=1", ""},
		{"user and password", "https://u:pw@api.example.com/v1", `"https://api.example.com/v1" has a user name or password`},
		{"user only", "http://tok@api.example.com", `"http://api.example.com" has a user name or password`},
		{"@ in the path is no userinfo", "https://api.example.com/users/@me", ""},
		{"not http", "ftp://u:pw@files.example.com/", `"ftp://files.example.com/" has a user name or password`},
		{"unparsable, with a password", "https://u:pw@api.example.com/%zz", `"https://api.example.com/%zz" has a user name or password`},
		{"unparsable", "https://api.example.com/%zz", `"https://api.example.com/%zz" is not a URL: invalid URL escape "%zz"`},
		{"relative", "/v1", `"/v1" is not an absolute http(s) URL`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := TargetURL(tc.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tc.want == "" && err != nil || tc.want != "" && !strings.HasPrefix(got, tc.want) {
				t.Errorf("TargetURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "pw") {
				t.Errorf("the message shows the password: %s", got)
			}
		})
	}
}
