package diff

import (
	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/diff/severity"
)

// Severity of a finding (package severity owns the scale).
type Severity = severity.Severity

// Severities, in increasing order.
const (
	SeverityInfo    = severity.Info
	SeverityWarning = severity.Warning
	SeverityError   = severity.Error
)

// ProbeRef is the browser scenario a finding or a cell is about.
type ProbeRef struct {
	ID     string `json:"id"`
	Origin string `json:"origin"`
	Method string `json:"method"`
	// Path is the path (and query) the probe requests, one of the target's
	// paths (empty in reports written before probes named it).
	Path        string   `json:"path,omitempty"`
	Headers     []string `json:"headers"` // "Name: value", as the page sets them
	Credentials bool     `json:"credentials"`
	// Class says why the probe is in the plan: "policy", "disallowed", or an
	// adversarial pattern class ("reflection", "null", "post-domain"...).
	Class string `json:"class,omitempty"`
	// Expect is what the policy says a browser decides: "allowed",
	// "blocked", or "" (adversarial probes judge themselves).
	Expect string `json:"expect,omitempty"`
	// Step, when set, is the one step of the fetch the probe sends
	// ("preflight" or "actual"): the load balancer routes the steps to
	// different pools.
	Step string `json:"step,omitempty"`
	// Routes is what the load balancer does with each step (the rule, its
	// action, the pools it forwards to): only the instances of those pools
	// answered the probe. Empty when the target has no router.
	Routes []audit.StepRoute `json:"routes,omitempty"`
}

// Finding is one problem corsaudit reports: one cause, with everything it
// explains. Instances that answer otherwise than the rest (one set of
// instances and the header difference that sets them apart) are one finding
// whatever they cause: the requests browsers block on every path
// (verdict-drift), the same-verdict differences on other requests
// (header-drift), the requests through the load balancer that land on them
// (lb-mismatch); Explains lists those kinds and Kind is the most severe.
type Finding struct {
	Kind      Kind     `json:"kind"`
	Severity  Severity `json:"severity"`
	Target    string   `json:"target"`
	Instances []string `json:"instances"` // instance ids; "lb" for the load balancer
	Groups    []string `json:"groups,omitempty"`
	// Probe is the first of Probes, kept for readers of older reports.
	Probe *ProbeRef `json:"probe,omitempty"`
	// Probes is every probe the finding covers, each with its path, in
	// the plan's order: read AllProbes, which also reads older reports.
	Probes []ProbeRef `json:"probes"`
	// Paths is every path of Probes, sorted.
	Paths []string `json:"paths,omitempty"`
	// Explains is, for a finding about instances that answer otherwise
	// than the rest, the symptom kinds its cause explains
	// (["verdict-drift", "header-drift", "lb-mismatch"]), most severe
	// first; Kind is the first. For a finding from a front's
	// configuration (config-*), the kinds of the run's probe findings the
	// configuration explains.
	Explains []Kind `json:"explains,omitempty"`
	// Evidence is, per set of instances showing the finding on the same
	// probes, those probes and a curl command for one of them; "lb" for
	// the requests through the load balancer that show it.
	Evidence []Evidence `json:"evidence,omitempty"`
	Expected string     `json:"expected,omitempty"`
	Observed string     `json:"observed,omitempty"`
	// Difference is, header by header, how the observed answer differs
	// from the expected one (empty when no answer is compared).
	Difference []HeaderDifference `json:"difference,omitempty"`
	Message    string             `json:"message"`
	// Compared is how many instances the finding's instances were compared
	// among ("1 of 11"), when it counts them: the one count the message and
	// the report's headline both say.
	Compared int `json:"compared,omitempty"`
	// Share is the fraction of requests through the load balancer the
	// finding affects (the intermittency users see), where samples show
	// it: the largest over its probes.
	Share float64 `json:"share,omitempty"`
	// Reproduce is a curl command that shows the problem.
	Reproduce string `json:"reproduce,omitempty"`
	// Path is the first of Paths, kept for readers of older reports;
	// empty for findings about a whole instance.
	Path string `json:"path,omitempty"`
	// Front names the layer in front of the instances the finding is
	// about, when the target lists its fronts (fronts:); empty for the
	// load balancer of a target without fronts.
	Front string `json:"front,omitempty"`
	// Addresses are the addresses of the front that gave the answers the
	// finding is about, when its name resolves to several (each ALB node,
	// each anycast address).
	Addresses []string `json:"addresses,omitempty"`

	// cause, set by the check, says which findings share one cause.
	cause *cause
}

// Evidence is where a set of instances (or the load balancer, "lb") shows a
// finding: the probes, by id, and a curl command for one of them.
type Evidence struct {
	Instances []string `json:"instances"`
	Probes    []string `json:"probes"`
	Reproduce string   `json:"reproduce,omitempty"`
}

// InstanceInfo is an instance as shown in reports.
type InstanceInfo struct {
	ID     string `json:"id"`
	Addr   string `json:"addr,omitempty"`
	Group  string `json:"group,omitempty"`
	Zone   string `json:"zone,omitempty"`
	Weight int    `json:"weight,omitempty"`
	Health string `json:"health,omitempty"`
	Skip   string `json:"skip,omitempty"`
	// Reachable: the instance answered at least one request.
	Reachable bool `json:"reachable"`
	// NothingSent: no request was sent to the instance (every probe was
	// not run), so it is neither reachable nor unreachable.
	NothingSent bool `json:"nothing_sent,omitempty"`
	// Failed counts the probes whose requests got no HTTP answer
	// (connection failures, timeouts).
	Failed int `json:"failed,omitempty"`
	// Unanswered counts the probes whose request was sent and not
	// answered before the run stopped (its deadline or an interrupt): the
	// instance was neither heard from nor given the time to answer.
	Unanswered int `json:"unanswered,omitempty"`
	// NotRun lists the probes not run on the instance, by reason.
	NotRun []NotRun `json:"not_run,omitempty"`
}

// NotRun is a set of probes not run on an instance, and why in plain words
// (no request a browser would send may be sent, the run's deadline passed,
// the instance was given up after consecutive failures).
type NotRun struct {
	Reason string   `json:"reason"`
	Probes []string `json:"probes"`
}

// Unreachable reports whether the instance was probed, sent requests, and
// answered none of them, one at least failing: requests the run stopped
// waiting for (Unanswered) alone do not make an instance unreachable.
// (Reports written before Failed existed have neither count.)
func (in InstanceInfo) Unreachable() bool {
	return in.Skip == "" && !in.Reachable && !in.NothingSent && (in.Failed > 0 || in.Unanswered == 0)
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
	Cells     *Cells         `json:"cells,omitzero"`
}
