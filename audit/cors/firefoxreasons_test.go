package cors

import "testing"

func TestFirefoxConsoleReasons(t *testing.T) {
	tests := []struct {
		desc   string
		reason Reason
		want   string
	}{
		{desc: "missing ACAO", reason: ReasonACAOMissing, want: "CORSMissingAllowOrigin2"},
		{desc: "ACAO sent twice", reason: ReasonACAOMultiple, want: "CORSMultipleAllowOriginNotAllowed"},
		{desc: "preflight redirect", reason: ReasonPreflightRedirect, want: "CORSExternalRedirectNotAllowed"},
		{desc: "header not allowed", reason: ReasonHeaderNotAllowed, want: "CORSMissingAllowHeaderFromPreflight2"},
		{desc: "no response", reason: ReasonNoResponse, want: "CORSDidNotSucceed2"},
		{desc: "nothing sent: no console reason", reason: ReasonForbiddenMethod},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got := FirefoxConsoleReasons(tc.reason)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("FirefoxConsoleReasons(%s) = %q, want none", tc.reason, got)
				}
				return
			}
			if len(got) == 0 || got[0] != tc.want {
				t.Errorf("FirefoxConsoleReasons(%s) = %q, want %q first", tc.reason, got, tc.want)
			}
		})
	}
}
