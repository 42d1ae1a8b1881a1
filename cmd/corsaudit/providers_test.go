package main

import "testing"

func TestProviders(t *testing.T) {
	runCLICases(t, []cliCase{
		{desc: "every provider", args: []string{"providers"}, wantCode: exitClean,
			wantOut: []string{"aws: ", "  load_balancer: ", "dns: ", "gcp: ", "  backend_service: ", "kubernetes: ", "  httproute: ", "static: ", "    - id: "}},
		{desc: "one provider", args: []string{"providers", "dns"}, wantCode: exitClean,
			wantOut: []string{"dns: ", "  network: "}, wantNotOut: []string{"aws: ", "static: "}},
		{desc: "unknown provider", args: []string{"providers", "azure"}, wantCode: exitUsage,
			wantErr: `corsaudit: providers: unknown provider "azure" (known: [aws dns gcp kubernetes static])`},
	})
}
