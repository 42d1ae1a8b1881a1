package audit

import (
	"net/url"
	"testing"
)

func TestResolveConnectTo(t *testing.T) {
	tests := []struct {
		desc, spec, url, want string
		wantErr               bool
	}{
		{desc: "host:port", spec: "10.0.0.1:8080", url: "https://a.example/", want: "10.0.0.1:8080"},
		{desc: "IPv6", spec: "[::1]:8443", url: "https://a.example/", want: "[::1]:8443"},
		{desc: "curl form, default https port", spec: "a.example:443:10.0.0.2:8443", url: "https://a.example/", want: "10.0.0.2:8443"},
		{desc: "curl form, other port does not apply", spec: "a.example:80:10.0.0.2:8443", url: "https://a.example/", want: ""},
		{desc: "curl form, empty target port keeps the URL's", spec: "::10.0.0.2:", url: "https://a.example:9443/", want: "10.0.0.2:9443"},
		{desc: "missing port", spec: "10.0.0.1", url: "https://a.example/", wantErr: true},
		{desc: "three parts", spec: "a:1:b", url: "https://a.example/", wantErr: true},
		{desc: "unclosed bracket", spec: "[::1:80", url: "https://a.example/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ResolveConnectTo(tt.spec, u)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
