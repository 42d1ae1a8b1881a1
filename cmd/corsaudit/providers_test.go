package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestProviders(t *testing.T) {
	tests := []struct {
		desc     string
		args     []string
		wantCode int
		wantOut  []string
		wantNot  []string
		wantErr  string
	}{
		{desc: "every provider", args: []string{"providers"}, wantCode: exitClean,
			wantOut: []string{"aws: ", "  load_balancer: ", "dns: ", "gcp: ", "  backend_service: ", "static: ", "    - id: "}},
		{desc: "one provider", args: []string{"providers", "dns"}, wantCode: exitClean,
			wantOut: []string{"dns: ", "  network: "}, wantNot: []string{"aws: ", "static: "}},
		{desc: "unknown provider", args: []string{"providers", "azure"}, wantCode: exitUsage,
			wantErr: `corsaudit: providers: unknown provider "azure" (known: [aws dns gcp static])`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := execute(context.Background(), iostreams{out: &out, errOut: &errOut}, tt.args)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}
