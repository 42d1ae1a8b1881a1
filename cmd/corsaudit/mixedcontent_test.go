package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/corsaudit/corsaudit/audit/cors"
)

// TestCheckMixedContent: from an https page, check blocks an http URL on a
// public host name as Chromium does (mixed content) and sends nothing; a
// loopback http URL is potentially trustworthy and is checked as usual.
func TestCheckMixedContent(t *testing.T) {
	s := &scriptedCORS{pre: answer(204, cors.ACAO, pageOrigin, cors.ACAM, "PUT"), act: answer(200, cors.ACAO, pageOrigin)}
	srv := startScripted(t, s)
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		desc   string
		args   []string
		code   int
		reason string
		sent   int
	}{
		{"public http URL from an https page: blocked, nothing sent",
			[]string{"http://api.example.com/x", "--connect-to", addr}, exitFindings, string(cors.ReasonMixedContent), 0},
		{"mixed content comes before the simple-POST rule",
			[]string{"http://api.example.com/x", "--connect-to", addr, "-X", "POST"}, exitFindings, string(cors.ReasonMixedContent), 0},
		{"loopback http URL is potentially trustworthy: checked",
			[]string{srv.URL + "/x", "-X", "PUT"}, exitClean, "", 1}, // the preflight; PUT itself needs --send-actual
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s.mu.Lock()
			s.requests = nil
			s.mu.Unlock()
			var stdout, stderr bytes.Buffer
			args := append([]string{"check", "--origin", pageOrigin, "--format", "json", "--browser", "chromium"}, tc.args...)
			code := execute(context.Background(), iostreams{out: &stdout, errOut: &stderr}, args)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr.String())
			}
			var res checkResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if res.Reason != tc.reason {
				t.Errorf("reason %q, want %q", res.Reason, tc.reason)
			}
			if n := len(s.methods()); n != tc.sent {
				t.Errorf("server got %d requests %v, want %d", n, s.methods(), tc.sent)
			}
			if tc.reason == string(cors.ReasonMixedContent) &&
				(!strings.HasPrefix(res.Message, "Mixed Content: The page at 'https://app.example.com/'") || res.NotSent == "") {
				t.Errorf("message %q, not_sent %q: want Chromium's mixed content line and why nothing was sent", res.Message, res.NotSent)
			}
		})
	}
}
