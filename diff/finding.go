// Package diff compares the observations of every instance of a target and
// turns the differences into Findings.
package diff

import "time"

// Severity of a finding.
type Severity string

// Severities, in increasing order.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities: info 1, warning 2, error 3, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityError:
		return 3
	}
	return 0
}

// Kind is a finding's stable name, used in JSON and by scripts.
type Kind string

// Finding kinds (DESIGN.md). Each has a default severity in DefaultSeverity.
const (
	KindVerdictDrift        Kind = "verdict-drift"
	KindHeaderDrift         Kind = "header-drift"
	KindSplit               Kind = "split"
	KindUnreachable         Kind = "unreachable"
	KindLBRedirect          Kind = "lb-redirect"
	KindLBAnswersOptions    Kind = "lb-answers-options"
	KindLBMismatch          Kind = "lb-mismatch"
	KindCacheLeak           Kind = "cache-leak"
	KindVaryMissing         Kind = "vary-missing"
	KindPolicyViolation     Kind = "policy-violation"
	KindOriginReflection    Kind = "origin-reflection"
	KindNullOrigin          Kind = "null-origin"
	KindBypassOrigin        Kind = "bypass-origin"
	KindInsecureOrigin      Kind = "insecure-origin"
	KindWildcardCredentials Kind = "wildcard-credentials"
	KindInvalidHeader       Kind = "invalid-header"
	// KindSkipped: an instance the provider listed but corsaudit cannot
	// probe (a lambda target, an unused target).
	KindSkipped Kind = "skipped"
)

// DefaultSeverity is each kind's severity unless a check raises or lowers it.
var DefaultSeverity = map[Kind]Severity{
	KindVerdictDrift:        SeverityError,
	KindHeaderDrift:         SeverityWarning,
	KindSplit:               SeverityError,
	KindUnreachable:         SeverityError,
	KindLBRedirect:          SeverityError,
	KindLBAnswersOptions:    SeverityWarning,
	KindLBMismatch:          SeverityError,
	KindCacheLeak:           SeverityError,
	KindVaryMissing:         SeverityWarning,
	KindPolicyViolation:     SeverityError,
	KindOriginReflection:    SeverityError,
	KindNullOrigin:          SeverityError,
	KindBypassOrigin:        SeverityError,
	KindInsecureOrigin:      SeverityWarning,
	KindWildcardCredentials: SeverityWarning,
	KindInvalidHeader:       SeverityError,
	KindSkipped:             SeverityInfo,
}

// ProbeRef is the browser scenario a finding or a cell is about.
type ProbeRef struct {
	ID          string   `json:"id"`
	Origin      string   `json:"origin"`
	Method      string   `json:"method"`
	Headers     []string `json:"headers"` // "Name: value", as the page sets them
	Credentials bool     `json:"credentials"`
	// Class says why the probe is in the plan: "policy", "disallowed", or an
	// adversarial pattern class ("reflection", "null", "post-domain"...).
	Class string `json:"class,omitempty"`
}

// Finding is one problem corsaudit reports.
type Finding struct {
	Kind      Kind      `json:"kind"`
	Severity  Severity  `json:"severity"`
	Target    string    `json:"target"`
	Instances []string  `json:"instances"` // instance ids; "lb" for the load balancer
	Groups    []string  `json:"groups,omitempty"`
	Probe     *ProbeRef `json:"probe,omitempty"`
	Expected  string    `json:"expected,omitempty"`
	Observed  string    `json:"observed,omitempty"`
	Message   string    `json:"message"`
	// Share is, for LB findings, the fraction of LB samples affected (the
	// intermittency users see).
	Share float64 `json:"share,omitempty"`
	// Reproduce is a curl command that shows the problem.
	Reproduce string `json:"reproduce,omitempty"`
}

// InstanceInfo is an instance as shown in reports.
type InstanceInfo struct {
	ID        string `json:"id"`
	Addr      string `json:"addr,omitempty"`
	Group     string `json:"group,omitempty"`
	Zone      string `json:"zone,omitempty"`
	Weight    int    `json:"weight,omitempty"`
	Health    string `json:"health,omitempty"`
	Skip      string `json:"skip,omitempty"`
	Reachable bool   `json:"reachable"`
}

// Outcome of one (instance, probe) cell.
const (
	OutcomeAllowed = "allowed"
	OutcomeBlocked = "blocked"
	OutcomeError   = "error"
)

// Cell is what one instance (or the LB) did for one probe: the matrix the
// HTML report draws.
type Cell struct {
	Instance string `json:"instance"` // instance id, or "lb"
	Probe    string `json:"probe"`    // ProbeRef.ID
	Outcome  string `json:"outcome"`  // allowed | blocked | error
	Reason   string `json:"reason,omitempty"`
	Status   int    `json:"status,omitempty"`
	Drift    bool   `json:"drift,omitempty"` // differs from the majority
}

// TargetReport is one audited target.
type TargetReport struct {
	Name      string         `json:"name"`
	URL       string         `json:"url"`
	Instances []InstanceInfo `json:"instances"`
	Probes    []ProbeRef     `json:"probes"`
	Cells     []Cell         `json:"cells,omitempty"`
}

// Summary counts what a run did and found.
type Summary struct {
	Targets     int              `json:"targets"`
	Instances   int              `json:"instances"`
	Probed      int              `json:"probed"`
	Unreachable int              `json:"unreachable"`
	Probes      int              `json:"probes"`
	Requests    int              `json:"requests"`
	Findings    int              `json:"findings"`
	BySeverity  map[Severity]int `json:"by_severity"`
	ByKind      map[Kind]int     `json:"by_kind"`
}

// Report is the whole result of a run: what renderers draw and what
// `corsaudit merge` combines.
type Report struct {
	Tool      string         `json:"tool"`
	Version   string         `json:"version"`
	Browser   string         `json:"browser"`
	StartedAt time.Time      `json:"started_at"`
	Duration  float64        `json:"duration_seconds"`
	Targets   []TargetReport `json:"targets"`
	Findings  []Finding      `json:"findings"`
	Summary   Summary        `json:"summary"`
	// Incomplete, when set, says why the run did not finish (deadline,
	// interrupt, discovery error): the report is partial.
	Incomplete string `json:"incomplete,omitempty"`
}

// Summarize recomputes r.Summary from its targets and findings; unreachable
// instances are counted from the unreachable findings.
func (r *Report) Summarize() {
	s := Summary{Targets: len(r.Targets), BySeverity: map[Severity]int{}, ByKind: map[Kind]int{},
		Requests: r.Summary.Requests}
	for _, t := range r.Targets {
		s.Instances += len(t.Instances)
		s.Probes += len(t.Probes)
		for _, in := range t.Instances {
			if in.Skip == "" {
				s.Probed++
			}
			if in.Skip == "" && !in.Reachable {
				s.Unreachable++
			}
		}
	}
	for _, f := range r.Findings {
		s.Findings++
		s.BySeverity[f.Severity]++
		s.ByKind[f.Kind]++
	}
	r.Summary = s
}

// MaxSeverity is the highest severity among the findings ("" when none).
func (r *Report) MaxSeverity() Severity {
	var max Severity
	for _, f := range r.Findings {
		if f.Severity.Rank() > max.Rank() {
			max = f.Severity
		}
	}
	return max
}
