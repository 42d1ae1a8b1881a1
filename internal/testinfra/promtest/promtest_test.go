package promtest

import (
	"strings"
	"testing"
)

func TestSamples(t *testing.T) {
	got := Samples(t, strings.NewReader(`# TYPE a gauge
a{z="1",b="x"} 2
# TYPE c counter
c 3
`))
	if len(got) != 2 || got[`a{b=x,z=1}`] != 2 || got["c"] != 3 {
		t.Errorf("samples %v", got)
	}
}
