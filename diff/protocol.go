package diff

import (
	"fmt"
	"slices"

	"github.com/corsaudit/corsaudit/audit"
)

// protocolMismatch reports a layer that answers a probe otherwise over
// HTTP/2 than over HTTP/1.1: browsers use HTTP/2 wherever the front
// offers it over TLS, so an HTTP/1.1 check (many monitors and scripts)
// sees another answer than users do. A probe counts when the samples over
// each protocol agree among themselves (so that instances drifting
// behind the layer do not pass for a protocol difference) and differ
// from the other protocol's; one finding per layer, an error when the
// verdict differs.
func (c *comparison) protocolMismatch(l layer) []Finding {
	var f *Finding
	var h2First audit.Observation
	for p, samples := range l.samples {
		var h2, h1 []audit.Observation
		for _, o := range samples {
			if !answered(o) || invalidDetail(o) != "" {
				continue
			}
			switch decidingExchange(o).Proto {
			case audit.ProtoHTTP2:
				h2 = append(h2, o)
			case audit.ProtoHTTP1, audit.ProtoHTTP10:
				h1 = append(h1, o)
			}
		}
		k2, ok2 := oneSignature(h2)
		k1, ok1 := oneSignature(h1)
		if !ok2 || !ok1 || k2.Key() == k1.Key() {
			continue
		}
		ds := differences(h1[0], h2[0])
		sev := SeverityWarning
		if k2.Outcome() != k1.Outcome() {
			sev = SeverityError
		}
		if f == nil {
			h2First = h2[0]
			f = &Finding{Kind: KindProtocolMismatch, Severity: sev, Instances: []string{"lb"}, Front: l.front(),
				Expected: "the same answer over HTTP/2 as over HTTP/1.1 (" + k1.Describe() + ")", Observed: "over HTTP/2: " + k2.Describe(),
				Difference: ds, Reproduce: reproduceDifference(h2[0], ds)}
		}
		if sev.Rank() > f.Severity.Rank() {
			f.Severity = sev
		}
		f.Probes = append(f.Probes, *c.probeRef(p))
	}
	if f == nil {
		return nil
	}
	f.Probe = &f.Probes[0]
	f.Message = fmt.Sprintf("%s answers %s otherwise over HTTP/2, which browsers use, than over HTTP/1.1%s",
		l.who(), requestsPhrase(f.Probes), because(f.Difference, ""))
	if f.Severity == SeverityError {
		f.Message += "; over HTTP/2 the verdict differs: " + h2First.Verdict().Message
	}
	f.Message += "; a check over HTTP/1.1 does not see what users see"
	return []Finding{*f}
}

// oneSignature is the signature every observation shares (false when
// there are none, or they differ).
func oneSignature(os []audit.Observation) (signature, bool) {
	if len(os) == 0 {
		return signature{}, false
	}
	s := signatureOf(os[0])
	return s, !slices.ContainsFunc(os[1:], func(o audit.Observation) bool { return signatureOf(o).Key() != s.Key() })
}
