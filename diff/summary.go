package diff

import "time"

// Summary counts what a run did and found.
type Summary struct {
	Targets     int `json:"targets"`
	Instances   int `json:"instances"`
	Probed      int `json:"probed"`
	Unreachable int `json:"unreachable"`
	// Unanswered counts the instances with requests not answered before
	// the run stopped (a partial run).
	Unanswered int              `json:"unanswered,omitempty"`
	Probes     int              `json:"probes"`
	Requests   int              `json:"requests"`
	Findings   int              `json:"findings"`
	BySeverity map[Severity]int `json:"by_severity"`
	ByKind     map[Kind]int     `json:"by_kind"`
}

// Report is the whole result of a run: what renderers draw and what
// `corsaudit merge` combines.
type Report struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	Browser string `json:"browser"`
	RunTime
	Targets  []TargetReport `json:"targets"`
	Findings []Finding      `json:"findings"`
	Summary  Summary        `json:"summary"`
	// Incomplete, when set, says why the run did not finish (deadline,
	// interrupt, discovery error): the report is partial.
	Incomplete string `json:"incomplete,omitempty"`
	// EndedAt, when set, is when the last of merged runs ended (their
	// Duration is the longest run's, not the span from StartedAt): read
	// End.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// FailOn is the threshold the run is judged by (the config's fail_on,
	// or --fail-on): read Threshold, which defaults it.
	FailOn FailOn `json:"fail_on,omitempty"`
}

// RunTime is when a run started and how long it took: the header of a
// report and of a shard file (pipeline.Shard).
type RunTime struct {
	StartedAt time.Time `json:"started_at"`
	Duration  float64   `json:"duration_seconds"`
}

// Ended is StartedAt + Duration.
func (t RunTime) Ended() time.Time {
	return t.StartedAt.Add(time.Duration(t.Duration * float64(time.Second)))
}

// End is when the run ended: EndedAt, else StartedAt + Duration (zero
// when StartedAt is).
func (r *Report) End() time.Time {
	if !r.EndedAt.IsZero() || r.StartedAt.IsZero() {
		return r.EndedAt
	}
	return r.Ended()
}

// Summarize recomputes r.Summary from its targets and findings; unreachable
// instances are those that were sent requests and answered none.
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
			if in.Unreachable() {
				s.Unreachable++
			}
			if in.Unanswered > 0 {
				s.Unanswered++
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
