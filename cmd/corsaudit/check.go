package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/config"
	"github.com/corsaudit/corsaudit/diff"
	"github.com/corsaudit/corsaudit/discovery"
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
	// DirectScheme is the scheme spoken to the --connect-to address (an
	// instance serving plain HTTP behind a TLS load balancer).
	DirectScheme string
	Insecure     bool
	Browser      string
	Format       string // text or json; empty: text on a terminal, json otherwise
	Timeout      time.Duration
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
	f.StringVar(&opts.DirectScheme, "direct-scheme", "", "scheme spoken to the --connect-to address, e.g. http for an instance behind a TLS load balancer (default: the URL's)")
	f.BoolVarP(&opts.Insecure, "insecure", "k", false, "do not verify TLS certificates")
	f.StringVar(&opts.Browser, "browser", "", "browser whose behaviour to model: chromium, firefox, webkit (alias safari) or spec (default: each of chromium, firefox and webkit)")
	f.StringVarP(&opts.Format, "format", "o", "", "output format: text (or table) or json, any case (default text on a terminal, json otherwise)")
	f.DurationVar(&opts.Timeout, "timeout", config.Default().Timeout, "timeout of each request")
	return cmd
}

// checkRequest is a validated check: the fetch to act out, as which
// browsers, and how to print it.
type checkRequest struct {
	fetch    audit.Fetch
	browsers []cors.Browser // the engines to act as, in cors.Engines() order
	onlyNote string         // why fewer engines than asked are run
	format   string
}

// prepareCheck reads the flags into the fetch to act out; the rules of
// what is sent are audit.Fetch's. Every error it returns is a usage error.
func prepareCheck(opts *checkOptions, outIsTerminal bool) (*checkRequest, error) {
	var errs []error
	u, err := config.TargetURL(opts.URL)
	switch {
	case urlSchemeHint("url", opts.URL) != nil:
		errs = append(errs, urlSchemeHint("url", opts.URL))
		u = nil
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
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
	browsers := cors.Engines()
	if opts.Browser != "" {
		b, err := cors.ParseBrowser(opts.Browser)
		if err != nil {
			errs = append(errs, fmt.Errorf("browser: %w", err))
		}
		browsers = []cors.Browser{b}
	}
	format := opts.Format
	if format == "" {
		format = "json"
		if outIsTerminal {
			format = "text"
		}
	}
	if format, err = normalizeFormat(format, []string{"text", "json"}, "text", false); err != nil {
		errs = append(errs, errors.Unwrap(err))
	}
	if opts.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is not positive", opts.Timeout))
	}
	var connectTo string
	if opts.ConnectTo != "" && u != nil {
		if connectTo, err = audit.ResolveConnectTo(opts.ConnectTo, u); err != nil {
			errs = append(errs, err)
		}
	}
	if err := discovery.CheckScheme(opts.DirectScheme); err != nil {
		errs = append(errs, fmt.Errorf("direct-scheme: %w", err))
	} else if opts.DirectScheme != "" && opts.ConnectTo == "" {
		errs = append(errs, errors.New("direct-scheme: needs --connect-to (the address it is spoken to)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &checkRequest{format: format, fetch: audit.Fetch{
		Request: cors.Request{Origin: opts.Origin, Method: opts.Method, Headers: headers, Credentials: opts.Credentials},
		URL:     u, ConnectTo: connectTo, Scheme: opts.DirectScheme,
		SendUnsafeActual: opts.SendActual, InsecureSkipVerify: opts.Insecure, Timeout: opts.Timeout,
	}}
	method := cors.NormalizeMethod(opts.Method)
	if cors.IsForbiddenMethod(method) {
		return nil, fmt.Errorf("method: fetch() rejects %s: a browser sends nothing", method)
	}
	if c.browsers = c.fetch.Engines(browsers); len(c.browsers) < len(browsers) {
		c.onlyNote = fmt.Sprintf("only %s is checked with --send-actual (the %s is sent once); give --browser to choose", c.browsers[0], method)
	}
	for _, b := range c.browsers {
		if !c.fetch.Judged(b) {
			return nil, fmt.Errorf("method: a %s without preflight (%s) is judged only from its actual response, which check sends only with --send-actual", method, b)
		}
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

// parseHeaderFlag parses "Name: value". The value is normalized as fetch()
// normalizes it, and checked by audit.CheckHeader.
func parseHeaderFlag(s string) (cors.Header, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return cors.Header{}, fmt.Errorf("header: %q is not 'Name: value'", s)
	}
	h := cors.Header{Name: strings.TrimSpace(name), Value: cors.NormalizeHeaderValue(value)}
	if err := audit.CheckHeader(h); err != nil {
		return cors.Header{}, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

// runCheck sends what a browser would and prints the verdict.
func runCheck(ctx context.Context, ios iostreams, opts *checkOptions) error {
	c, err := prepareCheck(opts, ios.outIsTerminal)
	if err != nil {
		return usageError(fmt.Errorf("check: %w", err))
	}
	res, err := c.runEngines(ctx)
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
	for _, e := range res.Engines {
		if !e.Allowed {
			return &exitError{code: exitFindings} // users of that engine are blocked
		}
	}
	if !res.Allowed {
		return &exitError{code: exitFindings}
	}
	return nil
}

// runEngines acts as each engine of c.browsers in turn (each sends what
// that engine sends) and returns the first engine's result with every
// engine's verdict.
func (c *checkRequest) runEngines(ctx context.Context) (*checkResult, error) {
	var first *checkResult
	var verdicts []engineVerdict
	for _, b := range c.browsers {
		res, err := c.actAs(ctx, b)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = res
		}
		verdicts = append(verdicts, engineVerdict{Browser: b, Allowed: res.Allowed, Preflight: res.Preflight,
			Reason: res.Reason, Message: res.Message, SpecNote: res.SpecNote})
	}
	first.Note = c.onlyNote
	if len(verdicts) > 1 {
		first.Engines = verdicts
		for _, v := range verdicts[1:] {
			if v.Allowed != verdicts[0].Allowed || v.Reason != verdicts[0].Reason || v.Preflight != verdicts[0].Preflight {
				first.Differ = true
			}
		}
	}
	return first, nil
}

// actAs acts out the fetch as browser (audit.Fetch.Act: what is sent,
// how answers are read, the verdict) and turns what happened into the
// result. An error means the server could not be reached, or the request
// was interrupted.
func (c *checkRequest) actAs(ctx context.Context, browser cors.Browser) (*checkResult, error) {
	req, u := c.fetch.Request, c.fetch.URL
	f := c.fetch.Act(ctx, browser)
	for _, ex := range []*audit.Exchange{f.Preflight, f.Actual} {
		if ex.Failed() {
			return nil, fmt.Errorf("check: %s %s: %s: %s%s", ex.Sent().Method, u, ex.Err, ex.ErrMsg, diff.SchemeHint(ex, "--direct-scheme "))
		}
	}
	mixed := f.Verdict.Reason == cors.ReasonMixedContent
	if !f.Done && !mixed {
		return nil, fmt.Errorf("check: %s", f.NotRun)
	}
	v := f.Verdict
	res := &checkResult{
		URL: u.String(), Origin: req.Origin, Method: cors.NormalizeMethod(req.Method), Headers: req.Headers,
		Credentials: req.Credentials, Browser: browser,
		Preflight: f.Plan.Needed, PreflightWhy: f.Plan.Why,
		Allowed: v.Allowed, Stage: v.Stage, Reason: string(v.Reason), SpecNote: v.SpecNote, Exposed: v.Exposed,
		ActualSkipped:     f.ActualSkipped,
		PreflightResponse: exchangeOf(f.Preflight),
		ActualResponse:    exchangeOf(f.Actual),
		Reproduce:         diff.Reproduce(audit.Observation{Preflight: f.Preflight, Actual: f.Actual, Done: true}.WithVerdict(v)),
	}
	if f.Plan.Needed {
		res.PreflightMethod, res.PreflightHeaders = f.Plan.Method, f.Plan.Headers
	}
	if mixed {
		res.NotSent = "a browser blocks this fetch as mixed content before sending anything"
	}
	if v.Allowed && f.ActualSkipped != "" {
		res.ActualSkipped += "; pass --send-actual to send it"
	}
	if !v.Allowed {
		res.Message = cors.ConsoleMessage(browser, res.URL, req.Origin, v)
		if res.Message == "" {
			res.Message = v.Message
		}
	}
	if v.CacheLifetime > 0 {
		res.CacheLifetime = v.CacheLifetime.String()
	}
	return res, nil
}
