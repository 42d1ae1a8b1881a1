package conformance

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/<engine>.json from the live browser runs")

// recordFile holds what engine e did for every scenario it runs, so that
// the cors package is checked against the browser even where no browser is
// installed.
func recordFile(e *engine) string { return filepath.Join("testdata", e.name+".json") }

// Origins used when replaying a record without a browser.
const (
	replayOrigin = "http://127.0.0.1:8001"
	replayServer = "http://127.0.0.1:8002"
)

func loadRecord(t *testing.T, e *engine) []observed {
	t.Helper()
	data, err := os.ReadFile(recordFile(e))
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	var rec []observed
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("record: %s: %v", recordFile(e), err)
	}
	return rec
}

// compareRecord asserts that the live run matches testdata/<engine>.json,
// or rewrites it with -update.
func compareRecord(t *testing.T, e *engine, live []observed) {
	if *update {
		data, err := json.MarshalIndent(live, "", "  ")
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if err := os.WriteFile(recordFile(e), append(data, '\n'), 0o644); err != nil {
			t.Fatalf("record: %v", err)
		}
		return
	}
	rec := loadRecord(t, e)
	byID := map[string]observed{}
	for _, r := range rec {
		byID[r.ID] = r
	}
	for _, l := range live {
		r, ok := byID[l.ID]
		if !ok {
			t.Errorf("record: %s %q is missing from %s (run with -update)", l.ID, l.Desc, recordFile(e))
			continue
		}
		if !reflect.DeepEqual(normalizeEmpty(r), normalizeEmpty(l)) {
			t.Errorf("record: %s now does something else for %s %q (review, then run with -update):\nrecorded: %+v\n    live: %+v", e.name, l.ID, l.Desc, r, l)
		}
	}
	if len(rec) != len(live) {
		t.Errorf("record: %d entries in %s, %d scenarios run (run with -update)", len(rec), recordFile(e), len(live))
	}
}

func normalizeEmpty(o observed) observed {
	if len(o.Readable) == 0 {
		o.Readable = nil
	}
	return o
}

// TestRecorded replays testdata/<engine>.json for every engine: it needs no
// browser, so the cors package is held to each engine's behaviour on every
// machine.
func TestRecorded(t *testing.T) {
	scs := scenarios()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			rec := loadRecord(t, e)
			byID := map[string]observed{}
			for _, ob := range rec {
				byID[ob.ID] = ob
			}
			n := 0
			for _, s := range scs {
				if _, cannot := e.cannot[s.desc]; cannot {
					continue
				}
				n++
				ob, ok := byID[s.id]
				if !ok || ob.Desc != s.desc {
					t.Fatalf("record: %s has no entry for %s %q (run the live suite with -update)", recordFile(e), s.id, s.desc)
				}
				url := fmt.Sprintf("%s/b/%s", replayServer, s.id)
				ob.Message = expandRecord(ob.Message)
				t.Run(s.id+" "+s.desc, func(t *testing.T) {
					assertCorsAgrees(t, e, s, replayOrigin, url, ob)
				})
			}
			if len(rec) != n {
				t.Errorf("record: %d entries in %s, %d scenarios for %s (run the live suite with -update)", len(rec), recordFile(e), n, e.name)
			}
		})
	}
}

// expandRecord puts the replay origins into a recorded message.
func expandRecord(msg string) string {
	s := &scriptServer{pageOrigin: replayOrigin}
	return s.expand(strings.ReplaceAll(msg, "{server}", replayServer), "")
}
