package cors

import "testing"

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		desc, in, err string
	}{
		{"https origin", "https://app.example.com", ""},
		{"port", "http://127.0.0.1:8080", ""},
		{"null", "null", ""},
		{"no scheme", "app.example.com", `"app.example.com" has no scheme`},
		{"ftp", "ftp://x", `"ftp://x": scheme must be http or https`},
		{"no host", "https://", `"https://" has no host`},
		{"path", "https://a.example/x", `"https://a.example/x" is not an origin (scheme://host[:port] only)`},
		{"user", "https://u@a.example", `"https://u@a.example" is not an origin (scheme://host[:port] only)`},
		{"trailing slash", "https://a.example/", `"https://a.example/": an origin has no trailing slash (browsers send "https://a.example")`},
	}
	for _, tc := range tests {
		got, err := ParseOrigin(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.in):
			t.Errorf("%s: ParseOrigin(%q) = %q, %v; want %q, nil", tc.desc, tc.in, got, err, tc.in)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: ParseOrigin(%q) error = %v; want %q", tc.desc, tc.in, err, tc.err)
		}
	}
}

func TestResponseHeaderName(t *testing.T) {
	tests := []struct {
		desc   string
		b      Browser
		raw    string
		want   string
		wantOK bool
	}{
		{"plain name", Firefox, "Access-Control-Allow-Origin", "Access-Control-Allow-Origin", true},
		{"Chromium trims a space before the colon", Chromium, "Access-Control-Allow-Origin ", "Access-Control-Allow-Origin", true},
		{"spec follows Chromium", Spec, "Access-Control-Allow-Origin\t", "Access-Control-Allow-Origin", true},
		{"Firefox drops the line", Firefox, "Access-Control-Allow-Origin ", "", false},
		{"WebKit drops the line", Webkit, "Access-Control-Allow-Origin ", "", false},
	}
	for _, tc := range tests {
		got, ok := ResponseHeaderName(tc.b, tc.raw)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: ResponseHeaderName(%s, %q) = %q, %v; want %q, %v", tc.desc, tc.b, tc.raw, got, ok, tc.want, tc.wantOK)
		}
	}
}
