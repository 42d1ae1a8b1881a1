package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/corsaudit/corsaudit/audit"
	"github.com/corsaudit/corsaudit/audit/cors"
	"github.com/corsaudit/corsaudit/diff"
)

// Shard is what one shard writes: what its instances answered (and, for
// the targets it owns, the load balancer samples and cache checks), never
// findings: merge runs the differ over the union of all shards.
//
// Answers are interned: Requests, Answers and Verdicts hold each distinct
// request (without its connect-to address), response and verdict once, and
// exchanges refer to them by index, so thousands of instances giving the
// same answer cost one entry each plus a few numbers per observation.
type Shard struct {
	FileKind string `json:"kind"`
	Format   int    `json:"format"`
	Version  string `json:"version,omitempty"`
	// Shard is this shard's number, from 0 to Shards-1.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// ConfigFingerprint and Config are the inventory's.
	ConfigFingerprint    string `json:"config_fingerprint"`
	Config               string `json:"config"`
	InventoryFingerprint string `json:"inventory_fingerprint"`
	// Incomplete joins the inventory's and this shard's reasons.
	Incomplete string `json:"incomplete,omitempty"`
	diff.RunTime
	Targets []shardTarget `json:"targets"`

	Requests []json.RawMessage `json:"requests"`
	Answers  []json.RawMessage `json:"answers"`
	Verdicts []json.RawMessage `json:"verdicts"`
}

// shardTarget is what a shard observed of one target (in inventory order).
type shardTarget struct {
	Name string `json:"name"`
	// Inventory is the target's inventory entry, on its owner shard only.
	Inventory *InventoryTarget `json:"inventory,omitempty"`
	Rows      []shardRow       `json:"rows"`
	// LB[p] are the load balancer samples of probe p (owner shard only).
	LB    [][]shardObservation `json:"lb,omitempty"`
	Cache []shardCachePair     `json:"cache,omitempty"`
	// Fronts are the samples through the fronts behind the first (owner
	// shard only).
	Fronts   []shardFront `json:"fronts,omitempty"`
	Requests int64        `json:"requests_sent"`
}

// shardFront is an audit.FrontSamples with interned parts.
type shardFront struct {
	Name  string               `json:"name"`
	Addrs []string             `json:"addrs,omitempty"`
	LB    [][]shardObservation `json:"lb"`
}

// shardRow is one instance's observations, probe by probe.
type shardRow struct {
	// Index is the instance's position in the inventory target.
	Index        int                `json:"index"`
	Instance     string             `json:"instance"`
	Observations []shardObservation `json:"observations"`
}

// shardObservation is an audit.Observation with interned parts.
type shardObservation struct {
	Preflight *shardExchange `json:"pre,omitempty"`
	Actual    *shardExchange `json:"act,omitempty"`
	Verdict   int            `json:"verdict"`
	Done      bool           `json:"done,omitempty"`
	NotRun    string         `json:"not_run,omitempty"`
}

// shardExchange is an audit.Exchange: indexes into Requests and Answers,
// the connect-to address and the latency.
type shardExchange struct {
	Request   int           `json:"req"`
	ConnectTo string        `json:"connect_to,omitempty"`
	Answer    int           `json:"ans"`
	Latency   time.Duration `json:"latency"`
}

// shardCachePair is an audit.CachePair with interned exchanges.
type shardCachePair struct {
	audit.CacheCase
	FirstAnswer  *shardExchange `json:"first,omitempty"`
	SecondAnswer *shardExchange `json:"second,omitempty"`
	Fresh        *shardExchange `json:"fresh,omitempty"`
}

// jsonInterner numbers distinct JSON values in order of first use.
type jsonInterner struct {
	at   map[string]int
	list []json.RawMessage
}

func (in *jsonInterner) add(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("shard: encode %T: %v", v, err)) // plain data: cannot fail
	}
	if in.at == nil {
		in.at = map[string]int{}
	}
	if n, ok := in.at[string(b)]; ok {
		return n
	}
	in.at[string(b)] = len(in.list)
	in.list = append(in.list, b)
	return len(in.list) - 1
}

// encoder turns observations into their shard form.
type encoder struct{ requests, answers, verdicts jsonInterner }

func (e *encoder) exchange(x *audit.Exchange) *shardExchange {
	if x == nil {
		return nil
	}
	out := &shardExchange{Latency: x.Latency}
	var req *audit.SentRequest
	if sent := x.Sent(); sent != nil {
		r := *sent
		out.ConnectTo, r.ConnectTo = r.ConnectTo, ""
		req = &r
	}
	out.Request = e.requests.add(req)
	ans := *x
	ans.Request, ans.Latency = nil, 0
	out.Answer = e.answers.add(ans)
	return out
}

func (e *encoder) observations(row []audit.Observation) []shardObservation {
	if row == nil {
		return nil
	}
	out := make([]shardObservation, len(row))
	for p, o := range row {
		out[p] = shardObservation{Preflight: e.exchange(o.Preflight), Actual: e.exchange(o.Actual),
			Verdict: e.verdicts.add(o.Verdict()), Done: o.Done, NotRun: o.NotRun}
	}
	return out
}

// decoder turns a shard's observations back into audit's types. Each
// interned value is decoded once and shared (headers are read-only).
type decoder struct {
	requests []*audit.SentRequest
	answers  []audit.Exchange
	verdicts []cors.Verdict
	// shared[i] is &verdicts[i], or nil for the zero verdict (as the
	// engine records it): every observation of a verdict shares it.
	shared []*cors.Verdict
}

// newDecoder decodes the interned parts of s. A request's Placeholders
// are not read from the file: a header is a placeholder only when its
// value is what corsaudit records for one of creds (the config's
// credentials, Recorded), so a shard file cannot make a curl command
// expand anything else.
func newDecoder(s *Shard, creds []*audit.Credential) (*decoder, error) {
	d := &decoder{requests: make([]*audit.SentRequest, len(s.Requests)), answers: make([]audit.Exchange, len(s.Answers)),
		verdicts: make([]cors.Verdict, len(s.Verdicts))}
	for i, b := range s.Requests {
		if err := json.Unmarshal(b, &d.requests[i]); err != nil {
			return nil, fmt.Errorf("requests[%d]: %w", i, err)
		}
		if r := d.requests[i]; r != nil {
			r.Placeholders = placeholders(r.Header, creds)
		}
	}
	for i, b := range s.Answers {
		if err := json.Unmarshal(b, &d.answers[i]); err != nil {
			return nil, fmt.Errorf("answers[%d]: %w", i, err)
		}
	}
	for i, b := range s.Verdicts {
		if err := json.Unmarshal(b, &d.verdicts[i]); err != nil {
			return nil, fmt.Errorf("verdicts[%d]: %w", i, err)
		}
	}
	d.shared = make([]*cors.Verdict, len(d.verdicts))
	for i := range d.verdicts {
		if !reflect.ValueOf(d.verdicts[i]).IsZero() {
			d.shared[i] = &d.verdicts[i]
		}
	}
	return d, nil
}

// placeholders names the headers of h that hold what a record of one of
// creds holds.
func placeholders(h http.Header, creds []*audit.Credential) []string {
	var names []string
	for _, c := range creds {
		name, value := c.Recorded()
		if slices.Contains(h[name], value) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func (d *decoder) exchange(x *shardExchange) (*audit.Exchange, error) {
	if x == nil {
		return nil, nil
	}
	if x.Request < 0 || x.Request >= len(d.requests) || x.Answer < 0 || x.Answer >= len(d.answers) {
		return nil, fmt.Errorf("exchange refers to request %d or answer %d, out of range", x.Request, x.Answer)
	}
	out := d.answers[x.Answer]
	if r := d.requests[x.Request]; r != nil {
		req := *r
		req.ConnectTo = x.ConnectTo
		out.Request = &req
	}
	out.Latency = x.Latency
	return &out, nil
}

// observations decodes a row, filling the fields the shard form leaves
// out: an instance's row (lbProbe -1) is indexed by probe; the load
// balancer's row of probe lbProbe is indexed by sample.
func (d *decoder) observations(row []shardObservation, instance string, lbProbe int) ([]audit.Observation, error) {
	if row == nil {
		return nil, nil
	}
	out := make([]audit.Observation, len(row))
	for k, o := range row {
		if o.Verdict < 0 || o.Verdict >= len(d.verdicts) {
			return nil, fmt.Errorf("verdict %d out of range", o.Verdict)
		}
		ob := audit.Observation{Probe: k, Instance: instance, Sample: -1, Done: o.Done, NotRun: o.NotRun}.WithSharedVerdict(d.shared[o.Verdict])
		if lbProbe >= 0 {
			ob.Probe, ob.Sample = lbProbe, k
		}
		var err error
		if ob.Preflight, err = d.exchange(o.Preflight); err != nil {
			return nil, err
		}
		if ob.Actual, err = d.exchange(o.Actual); err != nil {
			return nil, err
		}
		out[k] = ob
	}
	return out, nil
}

// ReadShard decodes a shard document and checks its kind and format.
func ReadShard(r io.Reader) (*Shard, error) {
	var s Shard
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("shard: not a corsaudit shard: %w", err)
	}
	if s.FileKind != FileKindShard {
		return nil, fmt.Errorf("shard: kind %q is not %s", s.FileKind, FileKindShard)
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("shard: format %d, this corsaudit reads format %d", s.Format, FormatVersion)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	return &s, nil
}
