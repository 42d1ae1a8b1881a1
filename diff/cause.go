package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/corsaudit/corsaudit/internal/plural"
)

// cause says which findings of a target share one cause and how the
// finding they become reads. Checks set it on the findings they report;
// group folds the findings that share one and drops it.
type cause struct {
	// key: findings of one kind and severity, on the same instances (or
	// any, with unite), with the same key, are one finding listing every
	// probe.
	key string
	// message is that finding's message, given all its probes and
	// instances, when it lists more than one probe.
	message func(probes []ProbeRef, instances []string) string
	// unite: the findings' instances are united rather than compared (a
	// load balancer's finding names the instances that served its samples).
	unite bool
	// answer makes the finding a symptom of instances that answer
	// otherwise than the rest: every symptom of the same instances is one
	// finding, whatever its kind and path.
	answer *answerCause
	// passed is load balancer samples that carry an instance's own answer:
	// a symptom of that answer's cause when the instances have one, else
	// a finding of its own (with key).
	passed *passedSamples
}

// answerCause is a symptom: instances answer probe p otherwise than the
// reference.
type answerCause struct {
	idx []int // the instances, by row
	p   int
	// sig is their answer (Signature.Key), the one load balancer samples
	// that repeat it carry.
	sig string
	// outcome and verdict are their answer's, refOutcome and refVerdict
	// the reference's (verdictString: blocked for another reason when the
	// outcomes agree).
	outcome, refOutcome string
	verdict, refVerdict string
	// reference names what they are compared with: "the majority", "the
	// baseline group blue's majority", "the policy".
	reference string
	// message is what the browser says about their answer.
	message string
}

// passedSamples is load balancer samples of probe p whose answer is sig,
// an instance's own answer passed through.
type passedSamples struct {
	p   int
	sig string
}

// causeKinds are the kinds a cause of instances answering otherwise
// explains, in the order Finding.Explains lists them.
var causeKinds = []Kind{KindVerdictDrift, KindPolicyViolation, KindHeaderDrift, KindLBMismatch}

// group merges the findings that share a cause, the first keeping its
// place:
//
//   - the symptoms of instances answering otherwise (the same instances
//     and groups) are one finding, whatever their kinds, probes and paths;
//     the load balancer samples that carry one of their answers fold into
//     it as its share;
//   - other findings of one kind and severity, on the same instances,
//     with the same cause key, are one finding listing every probe.
//
// No finding keeps its cause (findings are grouped once).
func (c *comparison) group(fs []Finding) []Finding {
	type answers struct {
		at       int
		symptoms []Finding
		passed   []Finding
	}
	instancesKey := func(f Finding) string {
		return strings.Join(f.Instances, "\x01") + "\x00" + strings.Join(f.Groups, "\x01")
	}
	byInstances := map[string]*answers{}
	byAnswer := map[passedSamples]*answers{}
	of := make([]*answers, len(fs))
	var all []*answers
	for n, f := range fs {
		if f.cause == nil || f.cause.answer == nil {
			continue
		}
		k := instancesKey(f)
		g := byInstances[k]
		if g == nil {
			g = &answers{at: -1}
			byInstances[k] = g
			all = append(all, g)
		}
		of[n] = g
		g.symptoms = append(g.symptoms, f)
		byAnswer[passedSamples{f.cause.answer.p, f.cause.answer.sig}] = g
	}
	var out []Finding
	at := map[string]int{}
	for n, f := range fs {
		switch {
		case f.cause == nil:
			out = append(out, f)
			continue
		case f.cause.answer != nil:
			if g := of[n]; g.at < 0 {
				g.at = len(out)
				out = append(out, Finding{})
			}
			continue
		case f.cause.passed != nil:
			if g := byAnswer[*f.cause.passed]; g != nil {
				g.passed = append(g.passed, f)
				continue
			}
		}
		parts := []string{string(f.Kind), string(f.Severity), strings.Join(f.Groups, "\x01"), f.cause.key}
		if !f.cause.unite {
			parts = append(parts, strings.Join(f.Instances, "\x01"))
		}
		key := strings.Join(parts, "\x00")
		n, ok := at[key]
		if !ok {
			at[key] = len(out)
			out = append(out, f)
			continue
		}
		g := &out[n]
		for _, p := range f.Probes {
			if !slices.ContainsFunc(g.Probes, func(q ProbeRef) bool { return q.ID == p.ID }) {
				g.Probes = append(g.Probes, p)
			}
		}
		if f.cause.unite {
			g.Instances = uniteInstances(g.Instances, f.Instances)
		}
		g.Share = max(g.Share, f.Share)
	}
	for _, g := range all {
		out[g.at] = c.answerFinding(g.symptoms, g.passed)
	}
	for k := range out {
		f := &out[k]
		if len(f.Probes) > 1 && f.cause != nil && f.cause.message != nil {
			f.Message = f.cause.message(f.Probes, f.Instances)
		}
		// The message closure holds the comparison and, through it, every
		// observation of the target: a finding must not keep them alive.
		f.cause = nil
	}
	return out
}

// uniteInstances is the instances of a and b, each once: "lb" first, the
// others sorted.
func uniteInstances(a, b []string) []string {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i] == "lb") != (out[j] == "lb") {
			return out[i] == "lb"
		}
		return out[i] < out[j]
	})
	return out
}

// answerFinding is the one finding of instances that answer otherwise
// than the rest: its symptoms on every probe and path, and the load
// balancer samples that carry their answers (passed). The most severe
// symptom gives the severity, the kind and the sample answer (expected,
// observed, reproduce); the differences are united; the share is the
// largest share of load balancer requests affected.
func (c *comparison) answerFinding(symptoms, passed []Finding) Finding {
	rank := func(f Finding) int { return f.Severity.Rank()*10 - slices.Index(causeKinds, f.Kind) }
	lead := symptoms[0]
	for _, s := range symptoms[1:] {
		if rank(s) > rank(lead) {
			lead = s
		}
	}
	f := lead
	f.cause = nil
	kinds := map[Kind]bool{}
	var direct, throughLB []int
	var dss [][]HeaderDifference
	var as []*answerCause
	for _, s := range symptoms {
		kinds[s.Kind] = true
		a := s.cause.answer
		as = append(as, a)
		direct = append(direct, a.p)
		dss = append(dss, s.Difference)
		f.Compared = max(f.Compared, s.Compared)
	}
	var lbLead *Finding
	for k, s := range passed {
		kinds[s.Kind] = true
		throughLB = append(throughLB, s.cause.passed.p)
		f.Share = max(f.Share, s.Share)
		if lbLead == nil || s.Severity.Rank() > lbLead.Severity.Rank() {
			lbLead = &passed[k]
		}
		if rank(s) > rank(f) {
			f.Severity, f.Kind = s.Severity, s.Kind
		}
	}
	f.Explains = nil
	for _, k := range causeKinds {
		if kinds[k] {
			f.Explains = append(f.Explains, k)
		}
	}
	f.Difference = unionDifferences(dss...)
	f.Probes = nil
	for _, p := range sortedSet(append(slices.Clone(direct), throughLB...)) {
		f.Probes = append(f.Probes, *c.probeRef(p))
	}
	f.Evidence = []Evidence{{Instances: f.Instances, Probes: c.probeIDs(sortedSet(direct)), Reproduce: lead.Reproduce}}
	if lbLead != nil {
		f.Evidence = append(f.Evidence, Evidence{Instances: []string{"lb"}, Probes: c.probeIDs(sortedSet(throughLB)), Reproduce: lbLead.Reproduce})
	}
	f.Message = c.answerMessage(lead.cause.answer, as, f.Difference, f.Compared, pathsOf(f.Probes), f.Share)
	return f
}

// answerMessage is the sentence of a cause of instances answering
// otherwise: who, what they do otherwise, where, and what browsers then
// decide: "w3 (1 of 4 instances) omits PUT from
// Access-Control-Allow-Methods on /v1/cart and /v1/items: PUT from
// https://shop.test is blocked there, and on 25% of requests through the
// load balancer".
func (c *comparison) answerMessage(lead *answerCause, as []*answerCause, ds []HeaderDifference, compared int, paths []string, share float64) string {
	n := len(lead.idx)
	who := fmt.Sprintf("%s (%s)", c.idList(lead.idx), c.ofCompared(n, compared))
	where := ""
	if len(paths) > 0 {
		where = " on " + andList(paths)
	}
	// What browsers decide on their answers: the requests whose verdict
	// changes, then those blocked for another reason.
	type consequence struct {
		order         int // 0: the verdict changes, 1: only its reason
		outcome, tail string
		probes        []ProbeRef
	}
	var cs []consequence
	same := map[int]bool{}
	for _, a := range as {
		x := consequence{outcome: a.outcome}
		switch {
		case a.outcome != a.refOutcome:
			// Blocked where the majority allows goes without saying.
			if a.reference != "the majority" || a.outcome == OutcomeAllowed {
				x.tail = ", which " + a.reference + " " + verb(a.refOutcome) + "s"
			}
		case a.verdict != a.refVerdict:
			x.order, x.tail = 1, " for another reason ("+reasonOf(a.verdict)+" instead of "+reasonOf(a.refVerdict)+")"
		default:
			same[a.p] = true
			continue
		}
		k := slices.IndexFunc(cs, func(y consequence) bool { return y.order == x.order && y.outcome == x.outcome && y.tail == x.tail })
		if k < 0 {
			k = len(cs)
			cs = append(cs, x)
		}
		if id := c.spec().Probes[a.p].ID; !slices.ContainsFunc(cs[k].probes, func(q ProbeRef) bool { return q.ID == id }) {
			cs[k].probes = append(cs[k].probes, *c.probeRef(a.p))
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].order < cs[j].order })
	lbShare := ""
	if share > 0 {
		lbShare = fmt.Sprintf(", and on %s of requests through the load balancer", percent(share))
	}
	if len(ds) > 0 {
		// What they do otherwise, then what browsers decide there.
		var parts []string
		for _, x := range cs {
			words := RequestWords(x.probes)
			isAre := "is"
			if strings.Contains(words, ", ") {
				isAre = "are"
			}
			parts = append(parts, fmt.Sprintf("%s %s %s there%s", words, isAre, x.outcome, x.tail))
		}
		if len(parts) == 0 {
			parts = append(parts, "browsers decide the same on "+plural.Count(len(same), "request"))
		}
		return fmt.Sprintf("%s %s%s: %s%s", who, differenceSentence(ds, n), where, strings.Join(parts, "; "), lbShare)
	}
	// No answer was compared header by header: what browsers decide, and
	// the browser's message.
	var parts []string
	for k, x := range cs {
		part := fmt.Sprintf("%s %s", plural.Verb(n, verb(x.outcome)), RequestWords(x.probes))
		if k == 0 {
			part += where
		}
		parts = append(parts, part+x.tail)
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%s %s with other CORS headers%s, browsers deciding the same", plural.Verb(n, "answer"),
			plural.Count(len(same), "request"), where))
	}
	msg := fmt.Sprintf("%s %s%s", who, strings.Join(parts, "; "), lbShare)
	if lead.message != "" {
		msg += ": " + lead.message
	}
	return msg
}

// reasonOf is the reason of a verdict string: "acao-missing" for
// "blocked (acao-missing)".
func reasonOf(verdict string) string {
	if _, r, ok := strings.Cut(verdict, "("); ok {
		return strings.TrimSuffix(r, ")")
	}
	return verdict
}

// percent is a share as a whole percentage: "25%".
func percent(share float64) string { return fmt.Sprintf("%.0f%%", share*100) }

// RequestWords names the requests of probes in a few words: "PUT from
// https://shop.test", "GET, PUT from https://a.example, https://b.example"
// ("some requests" for none): finding messages and the report's verdict
// sentence say them alike.
func RequestWords(ps []ProbeRef) string {
	var methods, origins []string
	for _, p := range ps {
		if !slices.Contains(methods, p.Method) {
			methods = append(methods, p.Method)
		}
		if !slices.Contains(origins, p.Origin) {
			origins = append(origins, p.Origin)
		}
	}
	if len(methods) == 0 {
		return "some requests"
	}
	return strings.Join(methods, ", ") + " from " + strings.Join(origins, ", ")
}

// requestsPhrase names the requests of several probes in a few words,
// with their paths when they are on several: "3 requests (p2, p3, p4: GET,
// PUT from https://app.example.com)", "... on /v1/cart and /v1/items".
func requestsPhrase(ps []ProbeRef) string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	s := fmt.Sprintf("%d requests (%s: %s)", len(ps), strings.Join(ids, ", "), RequestWords(ps))
	if paths := pathsOf(ps); len(paths) > 1 {
		s += " on " + andList(paths)
	}
	return s
}

// because is ": the answer " and the difference sentence, or the fallback
// (a browser's message) when no answer was compared.
func because(ds []HeaderDifference, fallback string) string {
	if s := differenceSentence(ds, 1); s != "" {
		return ": the answer " + s
	}
	if fallback != "" {
		return ": " + fallback
	}
	return ""
}

// pathsOf is the distinct paths of probes, sorted.
func pathsOf(ps []ProbeRef) []string {
	var out []string
	for _, p := range ps {
		if p.Path != "" && !slices.Contains(out, p.Path) {
			out = append(out, p.Path)
		}
	}
	sort.Strings(out)
	return out
}

// sortedSet is the distinct ints of s, sorted.
func sortedSet(s []int) []int {
	slices.Sort(s)
	return slices.Compact(s)
}

// probeIDs is the ids of probes ps.
func (c *comparison) probeIDs(ps []int) []string {
	out := make([]string, len(ps))
	for k, p := range ps {
		out[k] = c.spec().Probes[p].ID
	}
	return out
}
