package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// nginxConfig writes an nginx.conf that runs in the foreground as the
// current user with every path under dir, logs errors to stderr and
// round-robins listen over the instances, with the scenario's rules.
func nginxConfig(sc Scenario, dir, listen string, ins []Instance) string {
	var b strings.Builder
	p := func(name string) string { return filepath.Join(dir, name) }
	b.WriteString("# corsaudit lab " + sc.Name + ": " + sc.Summary + "\n")
	b.WriteString("daemon off;\nmaster_process on;\nworker_processes 1;\n")
	if os.Geteuid() == 0 {
		// As root nginx would switch its workers to nobody, who cannot
		// enter a private temp dir.
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "pid %s;\nerror_log stderr warn;\n", p("nginx.pid"))
	b.WriteString("events { worker_connections 128; }\n")
	b.WriteString("http {\n")
	b.WriteString("    access_log off;\n")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", t, p(t+"_temp"))
	}
	if sc.httpRules != "" {
		fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(sc.httpRules, "{{dir}}", dir))
	}
	b.WriteString("    upstream backends {\n")
	for _, in := range ins {
		fmt.Fprintf(&b, "        server %s; # %s (%s)\n", in.Addr, in.ID, in.Group)
	}
	b.WriteString("    }\n")
	b.WriteString("    server {\n")
	fmt.Fprintf(&b, "        listen %s;\n", listen)
	b.WriteString("        location / {\n")
	if sc.rules != "" {
		fmt.Fprintf(&b, "            %s\n", sc.rules)
	}
	b.WriteString("            proxy_set_header Host $http_host;\n")
	b.WriteString("            proxy_pass http://backends;\n")
	b.WriteString("        }\n    }\n}\n")
	return b.String()
}

// haproxyConfig writes a haproxy.cfg for `haproxy -f cfg -db` (foreground)
// that round-robins listen over the instances, with the scenario's rules in
// the frontend.
func haproxyConfig(sc Scenario, listen string, ins []Instance) string {
	var b strings.Builder
	b.WriteString("# corsaudit lab " + sc.Name + ": " + sc.Summary + "\n")
	b.WriteString("global\n    maxconn 256\n\n")
	b.WriteString("defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n")
	b.WriteString("frontend lab\n")
	fmt.Fprintf(&b, "    bind %s\n", listen)
	if sc.rules != "" {
		fmt.Fprintf(&b, "    %s\n", sc.rules)
	}
	b.WriteString("    default_backend instances\n\n")
	b.WriteString("backend instances\n    balance roundrobin\n")
	for _, in := range ins {
		fmt.Fprintf(&b, "    server %s %s\n", in.ID, in.Addr)
	}
	return b.String()
}
