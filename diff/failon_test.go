package diff

import (
	"testing"

	"github.com/corsaudit/corsaudit/diff/severity"
)

func TestFailOn(t *testing.T) {
	warn := &Report{Findings: []Finding{{Kind: KindHeaderDrift, Severity: SeverityWarning}}}
	for _, tc := range []struct {
		desc    string
		level   string
		rep     *Report
		want    bool
		wantErr bool
	}{
		{desc: "error threshold, warning finding", level: "error", rep: warn, want: false},
		{desc: "warning threshold, warning finding", level: "warning", rep: warn, want: true},
		{desc: "info threshold, warning finding", level: "info", rep: warn, want: true},
		{desc: "never", level: "never", rep: warn, want: false},
		{desc: "no findings", level: "info", rep: &Report{}, want: false},
		{desc: "unknown level", level: "sometimes", wantErr: true},
	} {
		f, err := severity.ParseFailOn(tc.level)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.desc, err)
			continue
		}
		if err == nil && tc.rep.FailsAt(f) != tc.want {
			t.Errorf("%s: Fails = %v, want %v", tc.desc, !tc.want, tc.want)
		}
	}
}
