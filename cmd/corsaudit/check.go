package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
)

// checkOptions are the flags of `corsaudit check`.
type checkOptions struct {
	URL         string
	Origin      string
	Method      string
	Headers     []string // "Name: value"
	Credentials bool
	SendActual  bool
	ConnectTo   string // HOST:PORT or HOST1:PORT1:HOST2:PORT2
	Browser     string
	Format      string // text or json; empty: text on a terminal, json otherwise
	Timeout     time.Duration
}

func newCmdCheck(ios iostreams, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check URL --origin ORIGIN",
		Short: "Act as a browser for one cross-origin request and print its CORS verdict",
		Long: `Act as the browser would for one fetch() from a page on ORIGIN to URL:
decide whether a preflight is needed, send it if so (never following
redirects), then send the actual request only for GET and HEAD, or for any
method with --send-actual. Both responses are evaluated and the verdict is
printed with the message the browser's console would show.

  corsaudit check https://api.example.com/v1/cart --origin https://app.example.com \
      --method PUT --header 'Content-Type: application/json' --credentials

Exit codes: 0 allowed, 1 blocked, 2 usage error, 3 the server could not be reached.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("check: want exactly one URL argument, got %d", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), ios, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Origin, "origin", "", "origin of the page that calls fetch() (required), e.g. https://app.example.com or null")
	f.StringVarP(&opts.Method, "method", "X", http.MethodGet, "request method as passed to fetch()")
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "request header the page sets, 'Name: value' (repeatable)")
	f.BoolVar(&opts.Credentials, "credentials", false, "fetch() with credentials: 'include' (no cookie is ever sent)")
	f.BoolVar(&opts.SendActual, "send-actual", false, "also send the actual request for methods other than GET and HEAD (may change server state)")
	f.StringVar(&opts.ConnectTo, "connect-to", "", "send the requests to HOST:PORT (or HOST1:PORT1:HOST2:PORT2, like curl) keeping the URL's Host and TLS SNI")
	f.StringVar(&opts.Browser, "browser", string(cors.Chromium), "browser whose behaviour to model: chromium, firefox, safari or spec")
	f.StringVarP(&opts.Format, "format", "o", "", "output format: text or json (default text on a terminal, json otherwise)")
	f.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "timeout of each request")
	return cmd
}

// checkRequest is a validated check: what to send and where.
type checkRequest struct {
	url        *url.URL
	req        cors.Request
	method     string // normalized method of the actual request
	browser    cors.Browser
	format     string
	connectTo  string
	timeout    time.Duration
	sendActual bool // whether the actual request is sent
}

// prepareCheck validates the options; every error it returns is a usage error.
func prepareCheck(opts *checkOptions, outIsTerminal bool) (*checkRequest, error) {
	var errs []error
	u, err := url.Parse(opts.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fmt.Errorf("url: %q is not an absolute http or https URL", opts.URL))
	}
	if err := validateOrigin(opts.Origin); err != nil {
		errs = append(errs, err)
	}
	if !cors.IsToken(opts.Method) {
		errs = append(errs, fmt.Errorf("method: %q is not a valid HTTP method", opts.Method))
	}
	var headers []cors.Header
	for _, h := range opts.Headers {
		hd, err := parseHeaderFlag(h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		headers = append(headers, hd)
	}
	browser, err := cors.ParseBrowser(opts.Browser)
	if err != nil {
		errs = append(errs, fmt.Errorf("browser: %w", err))
	}
	format := opts.Format
	if format == "" {
		format = "json"
		if outIsTerminal {
			format = "text"
		}
	}
	if format != "text" && format != "json" {
		errs = append(errs, fmt.Errorf("format: %q is not text or json", format))
	}
	if opts.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is not positive", opts.Timeout))
	}
	var connectTo string
	if opts.ConnectTo != "" && u != nil {
		if connectTo, err = resolveConnectTo(opts.ConnectTo, u); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &checkRequest{
		url:       u,
		req:       cors.Request{Origin: opts.Origin, Method: opts.Method, Headers: headers, Credentials: opts.Credentials},
		method:    cors.NormalizeMethod(opts.Method),
		browser:   browser,
		format:    format,
		connectTo: connectTo,
		timeout:   opts.Timeout,
	}
	c.sendActual = c.method == http.MethodGet || c.method == http.MethodHead || opts.SendActual
	if !c.sendActual && !cors.PlanPreflight(c.req).Needed {
		return nil, fmt.Errorf("method: a %s without preflight is judged only from its actual response, which check sends only with --send-actual", c.method)
	}
	return c, nil
}

// validateOrigin checks --origin with the cors package's origin syntax.
func validateOrigin(o string) error {
	if o == "" {
		return errors.New("origin: --origin is required")
	}
	if _, err := cors.ParseOrigin(o); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	return nil
}

// parseHeaderFlag parses "Name: value". The value is trimmed of leading and
// trailing spaces and tabs, as fetch() normalizes it.
func parseHeaderFlag(s string) (cors.Header, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return cors.Header{}, fmt.Errorf("header: %q is not 'Name: value'", s)
	}
	name = strings.TrimSpace(name)
	if !cors.IsToken(name) {
		return cors.Header{}, fmt.Errorf("header: %q is not a valid header name", name)
	}
	value = strings.Trim(value, " \t")
	if strings.ContainsAny(value, "\x00\r\n") {
		return cors.Header{}, fmt.Errorf("header: value of %s contains NUL, CR or LF", name)
	}
	return cors.Header{Name: name, Value: value}, nil
}

// resolveConnectTo turns --connect-to into the address to dial, or "" when
// the curl form HOST1:PORT1:HOST2:PORT2 does not match the URL.
func resolveConnectTo(spec string, u *url.URL) (string, error) {
	parts, err := splitConnectTo(spec)
	if err != nil {
		return "", err
	}
	switch len(parts) {
	case 2:
		if parts[0] == "" || parts[1] == "" {
			return "", fmt.Errorf("connect-to: %q is not HOST:PORT", spec)
		}
		return net.JoinHostPort(parts[0], parts[1]), nil
	case 4:
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		if (parts[0] != "" && !strings.EqualFold(parts[0], u.Hostname())) || (parts[1] != "" && parts[1] != port) {
			return "", nil
		}
		host, p := parts[2], parts[3]
		if host == "" {
			host = u.Hostname()
		}
		if p == "" {
			p = port
		}
		return net.JoinHostPort(host, p), nil
	}
	return "", fmt.Errorf("connect-to: %q is not HOST:PORT or HOST1:PORT1:HOST2:PORT2", spec)
}

// splitConnectTo splits on colons outside [brackets] (IPv6 literals) and
// strips the brackets.
func splitConnectTo(spec string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	inBracket := false
	for _, r := range spec {
		switch {
		case r == '[' && !inBracket:
			inBracket = true
		case r == ']' && inBracket:
			inBracket = false
		case r == ':' && !inBracket:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if inBracket {
		return nil, fmt.Errorf("connect-to: %q has an unclosed [", spec)
	}
	return append(parts, cur.String()), nil
}

// checkExchange is one request check sent and the response it got.
type checkExchange struct {
	Method string `json:"method"`
	Status int    `json:"status,omitempty"`
	// Header holds the CORS-relevant response headers exactly as received.
	Header http.Header `json:"header,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// checkResult is the JSON output of `corsaudit check`.
type checkResult struct {
	URL         string        `json:"url"`
	Origin      string        `json:"origin"`
	Method      string        `json:"method"`
	Headers     []cors.Header `json:"headers,omitempty"`
	Credentials bool          `json:"credentials"`
	Browser     cors.Browser  `json:"browser"`

	Allowed bool `json:"allowed"`
	// Preflight is whether a browser sends a preflight for this request.
	Preflight    bool   `json:"preflight"`
	PreflightWhy string `json:"preflight_why,omitempty"`
	// PreflightMethod and PreflightHeaders are the ACRM and ACRH values sent.
	PreflightMethod  string `json:"preflight_method,omitempty"`
	PreflightHeaders string `json:"preflight_headers,omitempty"`
	Stage            string `json:"stage,omitempty"`
	Reason           string `json:"reason"`
	Message          string `json:"message"`
	SpecNote         string `json:"spec_note,omitempty"`
	// CacheLifetime is how long the browser caches the passing preflight.
	CacheLifetime string   `json:"cache_lifetime,omitempty"`
	Exposed       []string `json:"exposed,omitempty"`
	// ActualSkipped says why the actual request was not sent, when it was not.
	ActualSkipped string `json:"actual_skipped,omitempty"`

	PreflightResponse *checkExchange `json:"preflight_response,omitempty"`
	ActualResponse    *checkExchange `json:"actual_response,omitempty"`
}

// runCheck sends what a browser would and prints the verdict.
func runCheck(ctx context.Context, ios iostreams, opts *checkOptions) error {
	c, err := prepareCheck(opts, ios.outIsTerminal)
	if err != nil {
		return usageError(fmt.Errorf("check: %w", err))
	}
	res, err := c.run(ctx)
	if err != nil {
		return incompleteError(err)
	}
	if c.format == "json" {
		enc := json.NewEncoder(ios.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return incompleteError(fmt.Errorf("check: write output: %w", err))
		}
	} else if err := writeCheckText(ios.out, res); err != nil {
		return incompleteError(fmt.Errorf("check: write output: %w", err))
	}
	if !res.Allowed {
		return &exitError{code: exitFindings}
	}
	return nil
}

// run sends the preflight when needed, then the actual request when allowed
// to, and evaluates what came back. An error means the server could not be
// reached.
func (c *checkRequest) run(ctx context.Context) (*checkResult, error) {
	client := audit.NewClient(audit.TransportOptions{ConnectTo: c.connectTo, Timeout: c.timeout})
	defer client.CloseIdleConnections()
	plan := cors.PlanPreflight(c.req)
	res := &checkResult{
		URL: c.url.String(), Origin: c.req.Origin, Method: c.method, Headers: c.req.Headers,
		Credentials: c.req.Credentials, Browser: c.browser,
		Preflight: plan.Needed, PreflightWhy: plan.Why,
	}
	var pre, act *cors.Response
	if plan.Needed {
		res.PreflightMethod, res.PreflightHeaders = plan.Method, plan.Headers
		h := http.Header{}
		h.Set("Origin", c.req.Origin)
		h.Set("Access-Control-Request-Method", plan.Method)
		if plan.Headers != "" {
			h.Set("Access-Control-Request-Headers", plan.Headers)
		}
		ex, resp, err := c.send(ctx, client, http.MethodOptions, h)
		res.PreflightResponse = ex
		if err != nil {
			return nil, err
		}
		pre = resp
	}
	verdict := cors.Evaluate(c.browser, c.req, pre, nil)
	switch {
	case plan.Needed && !verdict.Allowed:
		// The browser stops at a failed preflight.
		res.ActualSkipped = "the preflight failed"
	case !c.sendActual:
		res.ActualSkipped = fmt.Sprintf("%s can change server state; pass --send-actual to send it", c.method)
	default:
		h := http.Header{}
		for _, hd := range c.req.Headers {
			h.Add(hd.Name, hd.Value)
		}
		h.Set("Origin", c.req.Origin)
		ex, resp, err := c.send(ctx, client, c.method, h)
		res.ActualResponse = ex
		if err != nil {
			return nil, err
		}
		act = resp
		verdict = cors.Evaluate(c.browser, c.req, pre, act)
	}
	res.Allowed = verdict.Allowed
	res.Stage = verdict.Stage
	res.Reason = string(verdict.Reason)
	res.SpecNote = verdict.SpecNote
	if !verdict.Allowed {
		res.Message = cors.ConsoleMessage(res.URL, c.req.Origin, verdict)
		if res.Message == "" {
			res.Message = verdict.Message
		}
	}
	if verdict.CacheLifetime > 0 {
		res.CacheLifetime = verdict.CacheLifetime.String()
	}
	res.Exposed = verdict.Exposed
	return res, nil
}

// send sends one request with a per-request timeout and records the response.
func (c *checkRequest) send(ctx context.Context, client *http.Client, method string, h http.Header) (*checkExchange, *cors.Response, error) {
	ex := &checkExchange{Method: method}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url.String(), nil)
	if err != nil {
		ex.Error = err.Error()
		return ex, nil, fmt.Errorf("check: %s %s: %w", method, c.url, err)
	}
	req.Header = h
	req.Header.Set("User-Agent", audit.UserAgent)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := client.Do(req)
	if err != nil {
		ex.Error = string(audit.Classify(err)) + ": " + err.Error()
		return ex, nil, fmt.Errorf("check: %s %s: %s: %w", method, c.url, audit.Classify(err), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, audit.MaxBodyBytes))
	ex.Status = resp.StatusCode
	ex.Header = audit.RelevantHeaders(resp.Header, "")
	// The verdict is computed on every header as received, not only the
	// ones shown.
	return ex, &cors.Response{Status: resp.StatusCode, Header: browserHeader(resp.Header)}, nil
}

// browserHeader reads header names as Chromium does: a name followed by
// whitespace before its colon ("Access-Control-Allow-Origin : *"), which Go
// keeps as a distinct key, still names the header.
func browserHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		name := http.CanonicalHeaderKey(strings.TrimRight(k, " \t"))
		out[name] = append(out[name], v...)
	}
	return out
}

// writeCheckText prints the verdict for a person.
func writeCheckText(w io.Writer, r *checkResult) error {
	var b strings.Builder
	if r.Allowed {
		fmt.Fprintf(&b, "ALLOWED: %s would let a page on %s read the response to %s %s\n", r.Browser, r.Origin, r.Method, r.URL)
	} else {
		fmt.Fprintf(&b, "BLOCKED (%s): %s\n", r.Reason, r.Message)
	}
	if r.Preflight {
		fmt.Fprintf(&b, "preflight: sent, because %s (Access-Control-Request-Method: %s", r.PreflightWhy, r.PreflightMethod)
		if r.PreflightHeaders != "" {
			fmt.Fprintf(&b, ", Access-Control-Request-Headers: %s", r.PreflightHeaders)
		}
		b.WriteString(")\n")
	} else {
		why := r.PreflightWhy
		if why == "" {
			why = "a simple request"
		}
		fmt.Fprintf(&b, "preflight: not sent (%s)\n", why)
	}
	writeExchangeText(&b, r.PreflightResponse)
	if r.ActualSkipped != "" {
		fmt.Fprintf(&b, "actual request: not sent (%s)\n", r.ActualSkipped)
	}
	writeExchangeText(&b, r.ActualResponse)
	if r.Allowed && r.CacheLifetime != "" {
		fmt.Fprintf(&b, "preflight cached for %s\n", r.CacheLifetime)
	}
	if r.Allowed && len(r.Exposed) > 0 {
		fmt.Fprintf(&b, "readable response headers: %s\n", strings.Join(r.Exposed, ", "))
	}
	if r.SpecNote != "" {
		fmt.Fprintf(&b, "note: %s\n", r.SpecNote)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeExchangeText(b *strings.Builder, ex *checkExchange) {
	if ex == nil {
		return
	}
	fmt.Fprintf(b, "  %s -> %d\n", ex.Method, ex.Status)
	names := make([]string, 0, len(ex.Header))
	for k := range ex.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range ex.Header[k] {
			fmt.Fprintf(b, "    %s: %s\n", k, v)
		}
	}
}
