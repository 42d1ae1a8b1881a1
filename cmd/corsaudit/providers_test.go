package main

import "testing"

func TestProviders(t *testing.T) {
	runCLICases(t, []cliCase{
		{desc: "every provider", args: []string{"providers"}, wantCode: exitClean,
			wantOut: []string{"aws: ", "  load_balancer: ", "dns: ", "gcp: ", "  backend_service: ", "kubernetes: ", "  httproute: ", "static: ", "    - id: ",
				"discover: may also be a list of sources", "- group: green"}},
		{desc: "one provider", args: []string{"providers", "dns"}, wantCode: exitClean,
			wantOut: []string{"dns: ", "  network: "}, wantNotOut: []string{"aws: ", "static: ", "list of sources"}},
		{desc: "unknown provider", args: []string{"providers", "azure"}, wantCode: exitUsage,
			wantErr: `corsaudit: providers: unknown provider "azure" (known: [aws dns gcp kubernetes static])`},
	})
}
