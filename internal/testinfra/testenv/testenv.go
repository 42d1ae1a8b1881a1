package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool {
	ok, _ := strconv.ParseBool(os.Getenv("CI"))
	return ok
}

// LookTool returns the path of the first of names found on PATH, or in an
// sbin directory a user's PATH often lacks (where Debian puts nginx,
// haproxy and varnishd). When none is found it fails the test in CI and
// skips it elsewhere.
func LookTool(t testing.TB, why string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	msg := why + ": none of " + strconv.Quote(names[0])
	for _, n := range names[1:] {
		msg += ", " + strconv.Quote(n)
	}
	msg += " is on PATH (bash .ci/run installs it)"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Eventually polls cond every 20ms until it holds, and fails the test
// when within passes first, with what cond last said it saw: the way to
// wait for a process or a server, instead of sleeping.
func Eventually(t testing.TB, within time.Duration, cond func() (ok bool, what string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, what := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		<-tick.C
	}
}
