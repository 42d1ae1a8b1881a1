package audit

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsaudit/corsaudit/discovery"
	"github.com/corsaudit/corsaudit/internal/testinfra/faultnet"
)

// tlsOnly is a TLS server: a plain HTTP request fails its handshake and
// it closes its side without an HTTP answer.
func tlsOnly(t *testing.T) func(net.Conn) {
	cert := httptest.NewTLSServer(http.NotFoundHandler())
	conf := cert.TLS.Clone()
	cert.Close()
	return func(c net.Conn) {
		if err := tls.Server(c, conf).Handshake(); err == nil {
			return
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c) // until the client closes
	}
}

// faultPolicy has many probes, among them a simple POST for which no
// request may be sent.
func faultPolicy() Policy {
	return Policy{Origins: []string{"https://a.example.com", "https://b.example.com", "https://c.example.com", "https://d.example.com"},
		Methods: []string{"GET", "PUT", "POST"}, Headers: []string{"X-Request-Id"}}
}

// TestRunFaultFleet: every failure of an instance is recorded with its
// class on the observations that sent something; the simple POST probe is
// not run anywhere; a dead instance is given up after giveUpAfter
// consecutive failures, so it receives a bounded number of requests.
func TestRunFaultFleet(t *testing.T) {
	const perInstance = 3
	healthy := httptest.NewServer(newRecorder(t, allowApp))
	defer healthy.Close()
	plain := httptest.NewServer(http.HandlerFunc(allowApp))
	defer plain.Close()
	faults := map[string]*faultnet.Server{
		"hang":    faultnet.Start(t, faultnet.Hang),
		"reset":   faultnet.Start(t, faultnet.Reset),
		"garbage": faultnet.Start(t, faultnet.Garbage),
		"tls":     faultnet.Start(t, tlsOnly(t)),
	}
	tests := []struct {
		desc   string
		inst   discovery.Instance
		class  ErrorClass // of every observation that sent something
		giveUp string     // NotRun of the probes left once given up ("" never given up)
	}{
		{"healthy", discovery.Instance{ID: "healthy", Addr: healthy.Listener.Addr().String()}, ErrNone, ""},
		{"refuse (closed port)", discovery.Instance{ID: "refuse", Addr: faultnet.RefusedAddr(t)}, ErrRefused, "connection failures"},
		{"hang (accepts, never answers)", discovery.Instance{ID: "hang", Addr: faults["hang"].Addr()}, ErrTimeout, "timeouts"},
		{"reset (SO_LINGER 0)", discovery.Instance{ID: "reset", Addr: faults["reset"].Addr()}, ErrReset, "connection failures"},
		{"garbage (not HTTP)", discovery.Instance{ID: "garbage", Addr: faults["garbage"].Addr()}, ErrBadResponse, "connection failures"},
		{"TLS server, scheme http", discovery.Instance{ID: "tls", Addr: faults["tls"].Addr()}, ErrBadResponse, "connection failures"},
		{"plain server, scheme https", discovery.Instance{ID: "plain", Addr: plain.Listener.Addr().String(), Scheme: "https"}, ErrTLS, "connection failures"},
	}
	var insts []discovery.Instance
	for _, tt := range tests {
		insts = append(insts, tt.inst)
	}
	probes := Plan(faultPolicy())
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://api.example.com/", Instances: insts},
		Probes: probes, LB: LB{Disabled: true}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, []TargetSpec{spec}, testOptions(Options{PerInstance: perInstance, Timeout: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			sent := 0
			for _, o := range res[0].Direct.Row(i) {
				pr := probes[o.Probe]
				switch {
				case pr.Method == http.MethodPost && len(pr.Headers) == 0:
					if o.Done || !strings.Contains(o.NotRun, "no request may be sent") || o.Verdict().Allowed || o.Preflight != nil || o.Actual != nil {
						t.Errorf("%s (simple POST): done %v, not run %q, allowed %v: want not run, nothing sent", pr.ID, o.Done, o.NotRun, o.Verdict().Allowed)
					}
				case o.Done:
					sent++
					if o.Err() != tt.class {
						t.Errorf("%s: error %q, want %q (%s)", pr.ID, o.Err(), tt.class, errMsg(o))
					}
				default:
					want := "not run: instance given up after 2 consecutive " + tt.giveUp
					if tt.giveUp == "" || o.NotRun != want {
						t.Errorf("%s: not done, not run %q, want %q", pr.ID, o.NotRun, want)
					}
					if o.Verdict().Allowed {
						t.Errorf("%s: not run but allowed", pr.ID)
					}
				}
			}
			if tt.giveUp == "" {
				return
			}
			// Item 11: a dead instance costs about giveUpAfter failures,
			// whatever the number of probes.
			if sent < giveUpAfter || sent > perInstance+1 {
				t.Errorf("%d observations sent requests, want %d to %d (of %d probes)", sent, giveUpAfter, perInstance+1, len(probes))
			}
			if f := faults[tt.inst.ID]; f != nil && f.Accepted() > perInstance+1 {
				t.Errorf("instance accepted %d connections, want at most %d", f.Accepted(), perInstance+1)
			}
		})
	}
}

// TestRunLBNotGivenUp: the load balancer samples are all sent, whatever
// fails (giving up is per instance).
func TestRunLBNotGivenUp(t *testing.T) {
	healthy := httptest.NewServer(newRecorder(t, allowApp))
	defer healthy.Close()
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://" + faultnet.RefusedAddr(t) + "/",
		Instances: []discovery.Instance{{ID: "up", Addr: healthy.Listener.Addr().String()}}},
		Probes: Plan(testPolicy()), LB: LB{Samples: 4}}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{Timeout: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	for p, samples := range res[0].LB {
		for k, o := range samples {
			if !o.Done || o.Err() != ErrRefused {
				t.Errorf("probe %d sample %d: done %v, error %q, not run %q: want every sample sent and refused", p, k, o.Done, o.Err(), o.NotRun)
			}
		}
	}
}

// TestRunCutOff: requests cut off by the run's deadline or by an
// interrupt are not observations: not done, never a timeout, although the
// instance is only slow. Those in flight when the run stopped say "not
// answered before the run stopped" (Unanswered): they were sent, unlike
// the probes never started ("not run").
func TestRunCutOff(t *testing.T) {
	tests := []struct {
		desc             string
		interrupt        bool
		notRun, notAnswd string
	}{
		{desc: "deadline", notRun: NotRunDeadline, notAnswd: notAnsweredDeadline},
		{desc: "interrupt", interrupt: true, notRun: NotRunInterrupted, notAnswd: notAnsweredInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			release := make(chan struct{})
			received := make(chan struct{}, 1000)
			var mu sync.Mutex
			arrived := map[string]int{}
			slow := func(name string) *httptest.Server {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					arrived[name]++
					mu.Unlock()
					if name == "instance" { // the interrupt waits for the instance's first request
						received <- struct{}{}
					}
					select { // answers later than the run's deadline
					case <-release:
					case <-r.Context().Done():
					}
					allowApp(w, r)
				}))
				t.Cleanup(srv.Close)
				return srv
			}
			instance, lb := slow("instance"), slow("lb")
			defer close(release)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if tt.interrupt {
				ctx, cancel = context.WithCancel(context.Background())
				defer cancel()
				go func() {
					<-received
					cancel()
				}()
			}
			spec := TargetSpec{Target: discovery.Target{Name: "t", URL: lb.URL,
				Instances: []discovery.Instance{{ID: "slow", Addr: instance.Listener.Addr().String()}}},
				Probes: Plan(faultPolicy()), LB: LB{Samples: 2}}
			res, err := Run(ctx, []TargetSpec{spec}, testOptions(Options{Timeout: time.Minute}))
			if err == nil {
				t.Fatal("Run returned no error although it was cut off")
			}
			inFlight := map[string]int{}
			check := func(where, kind string, o Observation) {
				if o.Done || o.Err() == ErrTimeout || o.Err() == ErrCanceled || o.Preflight != nil || o.Actual != nil {
					t.Errorf("%s: done %v, error %q: want not done, no exchange", where, o.Done, o.Err())
				}
				if o.Unanswered() {
					inFlight[kind]++
					if o.NotRun != tt.notAnswd {
						t.Errorf("%s: not run %q, want %q", where, o.NotRun, tt.notAnswd)
					}
					return
				}
				if pr := spec.Probes[o.Probe]; (pr.Method != http.MethodPost || len(pr.Headers) > 0) && o.NotRun != tt.notRun {
					t.Errorf("%s: not run %q, want %q", where, o.NotRun, tt.notRun)
				}
			}
			for _, o := range res[0].Direct.Row(0) {
				check("direct "+spec.Probes[o.Probe].ID, "instance", o)
			}
			for _, samples := range res[0].LB {
				for _, o := range samples {
					check("lb "+spec.Probes[o.Probe].ID, "lb", o)
				}
			}
			// Every request the instance received was in flight when the
			// run stopped (it answers none before): each is an unanswered
			// observation, not "not run". Through the load balancer, cache
			// checks send requests too, which are no observations.
			mu.Lock()
			defer mu.Unlock()
			if arrived["instance"] == 0 || inFlight["instance"] < arrived["instance"] {
				t.Errorf("the instance received %d requests and answered none; %d observations say so, want at least as many (and some)",
					arrived["instance"], inFlight["instance"])
			}
			if arrived["lb"] > 0 && inFlight["lb"] == 0 {
				t.Errorf("the load balancer received %d requests and answered none; no sample says so", arrived["lb"])
			}
		})
	}
}

// errMsg is the message of o's failed exchange.
func errMsg(o Observation) string {
	for _, e := range []*Exchange{o.Preflight, o.Actual} {
		if e.Failed() {
			return e.ErrMsg
		}
	}
	return ""
}

// TestTrickleIsGivenUp: an instance that sends its status line and CORS
// headers, then trickles its body, answers each request as far as the CORS
// check goes (a browser has the headers), but its body timing out counts
// toward giving it up like any other timeout: after giveUpAfter of them the
// rest of its probes are not run, instead of every GET waiting the full
// timeout and pushing the run to its deadline.
func TestTrickleIsGivenUp(t *testing.T) {
	const perInstance = 2
	trickle := faultnet.Start(t, faultnet.Trickle("Access-Control-Allow-Origin: https://app.example.com\r\nVary: Origin\r\n"))
	pol := Policy{Methods: []string{"GET"}}
	for _, o := range "abcdefghij" {
		pol.Origins = append(pol.Origins, "https://"+string(o)+".example.com")
	}
	probes := Plan(pol)
	spec := TargetSpec{Target: discovery.Target{Name: "t", URL: "http://api.example.com/",
		Instances: []discovery.Instance{{ID: "trickle", Addr: trickle.Addr()}}}, Probes: probes, LB: LB{Disabled: true}}
	res, err := Run(context.Background(), []TargetSpec{spec}, testOptions(Options{PerInstance: perInstance, Timeout: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	sent, givenUp := 0, 0
	for _, o := range res[0].Direct.Row(0) {
		switch {
		case o.Done:
			sent++
			e := o.Actual
			if e == nil || e.Status != http.StatusOK || !strings.HasPrefix(e.ErrMsg, "body: ") {
				t.Errorf("%s: %+v: want the status and headers, with the body's timeout noted", probes[o.Probe].ID, e)
			}
		case o.NotRun == "not run: instance given up after 2 consecutive timeouts":
			givenUp++
		default:
			t.Errorf("%s: not done, not run %q", probes[o.Probe].ID, o.NotRun)
		}
	}
	if sent < giveUpAfter || sent > perInstance+1 || givenUp == 0 {
		t.Errorf("%d probes sent, %d given up (of %d): want %d to %d sent, the rest given up", sent, givenUp, len(probes), giveUpAfter, perInstance+1)
	}
}
