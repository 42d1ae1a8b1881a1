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

var update = flag.Bool("update", false, "rewrite testdata/chromium.json from the live Chromium run")

// recordFile holds what Chromium did for every scenario, so that the cors
// package is checked against the browser even where no browser is installed.
var recordFile = filepath.Join("testdata", "chromium.json")

// Origins used when replaying the record without a browser.
const (
	replayOrigin = "http://127.0.0.1:8001"
	replayServer = "http://127.0.0.1:8002"
)

func loadRecord(t *testing.T) []observed {
	t.Helper()
	data, err := os.ReadFile(recordFile)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	var rec []observed
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("record: %s: %v", recordFile, err)
	}
	return rec
}

// compareRecord asserts that the live run matches testdata/chromium.json, or
// rewrites it with -update.
func compareRecord(t *testing.T, live []observed) {
	if *update {
		data, err := json.MarshalIndent(live, "", "  ")
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if err := os.WriteFile(recordFile, append(data, '\n'), 0o644); err != nil {
			t.Fatalf("record: %v", err)
		}
		return
	}
	rec := loadRecord(t)
	byID := map[string]observed{}
	for _, r := range rec {
		byID[r.ID] = r
	}
	for _, l := range live {
		r, ok := byID[l.ID]
		if !ok {
			t.Errorf("record: %s %q is missing from %s (run with -update)", l.ID, l.Desc, recordFile)
			continue
		}
		if !reflect.DeepEqual(normalizeEmpty(r), normalizeEmpty(l)) {
			t.Errorf("record: chromium now does something else for %s %q (review, then run with -update):\nrecorded: %+v\n    live: %+v", l.ID, l.Desc, r, l)
		}
	}
	if len(rec) != len(live) {
		t.Errorf("record: %d entries in %s, %d scenarios (run with -update)", len(rec), recordFile, len(live))
	}
}

func normalizeEmpty(o observed) observed {
	if len(o.Readable) == 0 {
		o.Readable = nil
	}
	return o
}

// TestRecordedChromium replays testdata/chromium.json: it needs no browser,
// so the cors package is held to Chromium's behaviour on every machine.
func TestRecordedChromium(t *testing.T) {
	rec := loadRecord(t)
	scs := scenarios()
	if len(rec) != len(scs) {
		t.Fatalf("record: %d entries, %d scenarios (run the live suite with -update)", len(rec), len(scs))
	}
	for i, s := range scs {
		ob := rec[i]
		if ob.ID != s.id || ob.Desc != s.desc {
			t.Fatalf("record: entry %d is %s %q, scenario is %s %q (run the live suite with -update)", i, ob.ID, ob.Desc, s.id, s.desc)
		}
		url := fmt.Sprintf("%s/b/%s", replayServer, s.id)
		ob.Message = expandRecord(ob.Message)
		t.Run(s.id+" "+s.desc, func(t *testing.T) {
			assertCorsAgrees(t, s, replayOrigin, url, ob)
		})
	}
}

// expandRecord puts the replay origins into a recorded message.
func expandRecord(msg string) string {
	s := &scriptServer{pageOrigin: replayOrigin}
	return s.expand(strings.ReplaceAll(msg, "{server}", replayServer), "")
}
