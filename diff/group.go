package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// cause identifies what a finding is about beyond its kind and instances
// (the header difference, the verdict), so that one cause seen on several
// probes is one finding listing them.
type cause struct {
	key string
	// message is the merged finding's message, given all its probes.
	message func(probes []ProbeRef) string
}

// groupFindings merges findings of one kind and severity, on the same
// instances, with the same cause, into one finding listing every probe;
// the first keeps its place. Every finding about a probe ends with Probes
// set and Probe its first, and without its cause (findings are grouped
// once).
func groupFindings(fs []Finding) []Finding {
	var out []Finding
	at := map[string]int{}
	for _, f := range fs {
		if len(f.Probes) == 0 && f.Probe != nil {
			f.Probes = []ProbeRef{*f.Probe}
		}
		if f.cause == nil {
			out = append(out, f)
			continue
		}
		key := strings.Join([]string{string(f.Kind), string(f.Severity), f.Target, f.Path, strings.Join(f.Instances, "\x01"),
			strings.Join(f.Groups, "\x01"), f.cause.key}, "\x00")
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
		g.Share = max(g.Share, f.Share)
	}
	for k := range out {
		f := &out[k]
		if len(f.Probes) > 0 {
			f.Probe = &f.Probes[0]
		}
		if len(f.Probes) > 1 && f.cause != nil && f.cause.message != nil {
			f.Message = f.cause.message(f.Probes)
		}
		// The message closure holds the comparison and, through it, every
		// observation of the target: a finding must not keep them alive.
		f.cause = nil
	}
	return out
}

// requestsPhrase names the requests of several probes in a few words:
// "3 requests (p2, p3, p4: GET, PUT from https://app.example.com)".
func requestsPhrase(ps []ProbeRef) string {
	var ids, methods, origins []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if !slices.Contains(methods, p.Method) {
			methods = append(methods, p.Method)
		}
		if !slices.Contains(origins, p.Origin) {
			origins = append(origins, p.Origin)
		}
	}
	return fmt.Sprintf("%d requests (%s: %s from %s)", len(ps), strings.Join(ids, ", "),
		strings.Join(methods, ", "), strings.Join(origins, ", "))
}

// because is ": " and the difference sentence, or the fallback (a
// browser's message) when no answer was compared.
func because(ds []HeaderDifference, fallback string) string {
	if s := DifferenceSentence(ds); s != "" {
		return ": " + s
	}
	if fallback != "" {
		return ": " + fallback
	}
	return ""
}

// nonLBInstances counts the instances a finding names, the load balancer
// aside.
func nonLBInstances(f Finding) int {
	n := 0
	for _, id := range f.Instances {
		if id != "lb" {
			n++
		}
	}
	return n
}

// SortFindings orders findings by severity (highest first), then by how
// many users they affect: the share of load balancer requests, then the
// number of instances; then by kind, keeping the differ's order otherwise.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(a, b int) bool {
		fa, fb := fs[a], fs[b]
		if ra, rb := fa.Severity.Rank(), fb.Severity.Rank(); ra != rb {
			return ra > rb
		}
		if fa.Share != fb.Share {
			return fa.Share > fb.Share
		}
		if na, nb := nonLBInstances(fa), nonLBInstances(fb); na != nb {
			return na > nb
		}
		return fa.Kind < fb.Kind
	})
}
