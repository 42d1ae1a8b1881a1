package lab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// nginxConfig writes an nginx.conf that runs in the foreground as the
// current user with every path under dir, logs errors to stderr and
// round-robins listen over ups, with the scenario's rules (location
// block) and httpRules (http block).
func nginxConfig(sc Scenario, rules, httpRules, dir, listen string, ups []upstream) string {
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
	if httpRules != "" {
		fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(httpRules, "{{dir}}", dir))
	}
	b.WriteString("    upstream backends {\n")
	for _, u := range ups {
		fmt.Fprintf(&b, "        server %s; # %s (%s)\n", u.addr, u.id, u.group)
	}
	b.WriteString("    }\n")
	b.WriteString("    server {\n")
	fmt.Fprintf(&b, "        listen %s;\n", listen)
	b.WriteString("        location / {\n")
	if rules != "" {
		fmt.Fprintf(&b, "            %s\n", rules)
	}
	b.WriteString("            proxy_set_header Host $http_host;\n")
	b.WriteString("            proxy_pass http://backends;\n")
	b.WriteString("        }\n    }\n}\n")
	return b.String()
}

// haproxyConfig writes a haproxy.cfg for `haproxy -f cfg -db` (foreground)
// that round-robins listen over ups, with the scenario's rules in the
// frontend; a line of rules starting with "cache " starts a cache section
// of its own, up to the next blank line.
func haproxyConfig(sc Scenario, rules, listen string, ups []upstream) string {
	var b strings.Builder
	b.WriteString("# corsaudit lab " + sc.Name + ": " + sc.Summary + "\n")
	b.WriteString("global\n    maxconn 256\n\n")
	b.WriteString("defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n")
	front := rules
	if strings.HasPrefix(rules, "cache ") {
		section, rest, _ := strings.Cut(rules, "\n\n")
		b.WriteString(section + "\n\n")
		front = strings.TrimSpace(rest)
	}
	b.WriteString("frontend lab\n")
	fmt.Fprintf(&b, "    bind %s\n", listen)
	if front != "" {
		fmt.Fprintf(&b, "    %s\n", front)
	}
	b.WriteString("    default_backend instances\n\n")
	b.WriteString("backend instances\n    balance roundrobin\n")
	for _, u := range ups {
		fmt.Fprintf(&b, "    server %s %s\n", u.id, u.addr)
	}
	return b.String()
}

// varnishConfig writes a VCL that round-robins over ups (a directors
// round_robin) and then runs the scenario's rules: VCL subroutines, which
// varnish appends to the ones written before them and to its built-in
// ones.
func varnishConfig(sc Scenario, rules string, ups []upstream) string {
	var b strings.Builder
	b.WriteString("vcl 4.1;\n# corsaudit lab " + sc.Name + ": " + sc.Summary + "\nimport directors;\n\n")
	for k, u := range ups {
		host, port, _ := net.SplitHostPort(u.addr)
		fmt.Fprintf(&b, "backend b%d { .host = %q; .port = %q; } # %s\n", k, host, port, u.id)
	}
	b.WriteString("\nsub vcl_init {\n    new lab = directors.round_robin();\n")
	for k := range ups {
		fmt.Fprintf(&b, "    lab.add_backend(b%d);\n", k)
	}
	b.WriteString("}\n\nsub vcl_recv {\n    set req.backend_hint = lab.backend();\n}\n\n")
	if rules != "" {
		b.WriteString(rules + "\n")
	}
	return b.String()
}
