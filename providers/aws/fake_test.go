package aws

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// fakeCloud is an in-memory ELBv2 + EC2 account served over the query
// protocol (XML), so the tests drive the real SDK clients: request
// serialization, paginators, error decoding and the retryer.
type fakeCloud struct {
	mu        sync.Mutex
	region    string
	lbs       []fakeLB
	listeners []fakeListener
	rules     map[string][]fakeRule // by listener ARN
	// attrs are listener attributes by listener ARN (key: value).
	attrs     map[string]map[string]string
	tgs       []fakeTG
	targets   map[string][]fakeTarget // by target group ARN
	instances map[string]fakeInstance
	// pageSize, when set, caps every page (to exercise markers/tokens).
	pageSize int
	// faults queue error responses per action, served before real answers;
	// a fault with n < 0 is served forever.
	faults map[string][]fakeFault
	// attempts counts HTTP requests per action (retries included).
	attempts map[string]int
	// forms records every request's parameters.
	forms []url.Values
	// foreign records requests from a non-loopback peer (must stay empty).
	foreign []string
}

type fakeLB struct{ Name, ARN, DNS, Type string }

type fakeListener struct {
	ARN, LBArn string
	Port       int
	Protocol   string
	Default    []fakeAction
}

type fakeRule struct {
	Priority string // "default" for the default rule
	Actions  []fakeAction
	// Conditions is the XML of the rule's Conditions members, as
	// DescribeRules returns them (see conditionXML).
	Conditions string
}

// conditionXML is one host-header or path-pattern condition member as AWS
// returns it: the values in the legacy Values form and in the field's
// *Config form.
func conditionXML(field string, values ...string) string {
	config := "PathPatternConfig"
	if field == "host-header" {
		config = "HostHeaderConfig"
	}
	m := members(values)
	return fmt.Sprintf("<member><Field>%s</Field><Values>%s</Values><%s><Values>%s</Values></%s></member>", field, m, config, m, config)
}

// methodConditionXML is one http-request-method condition member.
func methodConditionXML(methods ...string) string {
	return fmt.Sprintf("<member><Field>http-request-method</Field><HttpRequestMethodConfig><Values>%s</Values></HttpRequestMethodConfig></member>", members(methods))
}

func members(values []string) string {
	var b strings.Builder
	for _, v := range values {
		fmt.Fprintf(&b, "<member>%s</member>", v)
	}
	return b.String()
}

// fakeAction is a forward action: the plain TargetGroupArn form when Plain
// is set, else a ForwardConfig with Tuples; Type other than forward when set
// (Fixed: a fixed-response's status code).
type fakeAction struct {
	Type   string
	Plain  string
	Tuples []fakeTuple
	Fixed  string
}

type fakeTuple struct {
	ARN    string
	Weight int // -1: no weight element
}

type fakeTG struct {
	ARN, Name, Type, Protocol string
	Port                      int
	LBArns                    []string
}

type fakeTarget struct {
	ID     string
	Port   int // 0: no Port element
	AZ     string
	State  string
	Reason string
}

type fakeInstance struct{ ID, PrivateIP, PublicIP, AZ, Type string }

type fakeFault struct {
	Code   string
	Status int
	N      int // times to serve; < 0 forever
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{region: "us-east-1", rules: map[string][]fakeRule{}, attrs: map[string]map[string]string{}, targets: map[string][]fakeTarget{},
		instances: map[string]fakeInstance{}, faults: map[string][]fakeFault{}, attempts: map[string]int{}}
}

// fault queues an error answer for an action.
func (f *fakeCloud) fault(action, code string, status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[action] = append(f.faults[action], fakeFault{Code: code, Status: status, N: n})
}

// serve starts the fake on loopback and returns SDK clients pointed at it
// and the counter installed on them. Retries wait no time (the retryer
// itself, attempts and throttling classification, stays the SDK's).
func (f *fakeCloud) serve(t *testing.T) (Clients, *callCounter) {
	t.Helper()
	calls := newCallCounter()
	return clientsFor(f.start(t), calls, func() sdkaws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}), calls
}

// start serves the fake on loopback until the test ends; it returns the URL.
func (f *fakeCloud) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

// clientsFor builds real SDK clients for endpoint with static credentials.
func clientsFor(endpoint string, calls *callCounter, retryer func() sdkaws.Retryer) Clients {
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	elb := elbv2.New(elbv2.Options{Region: "us-east-1", BaseEndpoint: sdkaws.String(endpoint), Credentials: creds,
		APIOptions: calls.APIOptions(), Retryer: retryer(), HTTPClient: newHTTPClient()})
	ec := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: sdkaws.String(endpoint), Credentials: creds,
		APIOptions: calls.APIOptions(), Retryer: retryer(), HTTPClient: newHTTPClient()})
	return Clients{ELB: elb, EC2: ec}
}

// ServeHTTP answers with a Content-Length (buffered), as AWS does.
func (f *fakeCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	rec := &bufferedWriter{ResponseWriter: w, buf: &buf}
	f.serveQuery(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(rec.status)
	_, _ = w.Write(buf.Bytes())
}

// bufferedWriter holds a response until it is complete.
type bufferedWriter struct {
	http.ResponseWriter
	buf    *bytes.Buffer
	status int
}

func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

func (f *fakeCloud) serveQuery(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if host, _, _ := strings.Cut(r.RemoteAddr, ":"); host != "127.0.0.1" && !strings.HasPrefix(r.RemoteAddr, "[::1]") {
		f.foreign = append(f.foreign, r.RemoteAddr)
	}
	action := r.PostForm.Get("Action")
	f.attempts[action]++
	f.forms = append(f.forms, r.PostForm)
	if q := f.faults[action]; len(q) > 0 {
		ft := q[0]
		if ft.N > 0 {
			q[0].N--
			if q[0].N == 0 {
				f.faults[action] = q[1:]
			}
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(ft.Status)
		if action == "DescribeInstances" {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>fake %s</Message></Error></Errors><RequestID>req-1</RequestID></Response>`, ft.Code, ft.Code)
			return
		}
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>fake %s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, ft.Code, ft.Code)
		return
	}
	var body string
	var err *fakeFault
	switch action {
	case "DescribeLoadBalancers":
		body, err = f.describeLoadBalancers(r.PostForm)
	case "DescribeListeners":
		body, err = f.describeListeners(r.PostForm)
	case "DescribeRules":
		body, err = f.describeRules(r.PostForm)
	case "DescribeListenerAttributes":
		body, err = f.describeListenerAttributes(r.PostForm)
	case "DescribeTargetGroups":
		body, err = f.describeTargetGroups(r.PostForm)
	case "DescribeTargetHealth":
		body, err = f.describeTargetHealth(r.PostForm)
	case "DescribeInstances":
		body = f.describeInstances(r.PostForm)
	default:
		err = &fakeFault{Code: "InvalidAction", Status: 400}
	}
	w.Header().Set("Content-Type", "text/xml")
	if err != nil {
		w.WriteHeader(err.Status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>fake</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, err.Code)
		return
	}
	if action == "DescribeInstances" {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>%s</DescribeInstancesResponse>`, body)
		return
	}
	fmt.Fprintf(w, `<%sResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%sResponse>`,
		action, action, body, action, action)
}

// listParam collects Prefix.member.N (ELBv2) or Prefix.N (EC2) values.
func listParam(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// page cuts items[marker:] to the page size; next is "" on the last page.
func (f *fakeCloud) page(n int, form url.Values, sizeParam, markerParam string) (start, end int, next string) {
	size := n
	if s, err := strconv.Atoi(form.Get(sizeParam)); err == nil && s > 0 {
		size = s
	}
	if f.pageSize > 0 && f.pageSize < size {
		size = f.pageSize
	}
	start, _ = strconv.Atoi(form.Get(markerParam))
	end = min(start+size, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next
}

func marker(tag, next string) string {
	if next == "" {
		return ""
	}
	return "<" + tag + ">" + next + "</" + tag + ">"
}

func (f *fakeCloud) describeLoadBalancers(form url.Values) (string, *fakeFault) {
	names, arns := listParam(form, "Names.member"), listParam(form, "LoadBalancerArns.member")
	var sel []fakeLB
	for _, lb := range f.lbs {
		if (len(names) == 0 || slices.Contains(names, lb.Name)) && (len(arns) == 0 || slices.Contains(arns, lb.ARN)) {
			sel = append(sel, lb)
		}
	}
	if (len(names) > 0 || len(arns) > 0) && len(sel) == 0 {
		return "", &fakeFault{Code: "LoadBalancerNotFound", Status: 400}
	}
	start, end, next := f.page(len(sel), form, "PageSize", "Marker")
	var b strings.Builder
	b.WriteString("<LoadBalancers>")
	for _, lb := range sel[start:end] {
		typ := lb.Type
		if typ == "" {
			typ = "application"
		}
		fmt.Fprintf(&b, `<member><LoadBalancerArn>%s</LoadBalancerArn><LoadBalancerName>%s</LoadBalancerName><DNSName>%s</DNSName><Type>%s</Type><Scheme>internet-facing</Scheme><State><Code>active</Code></State></member>`,
			lb.ARN, lb.Name, lb.DNS, typ)
	}
	b.WriteString("</LoadBalancers>" + marker("NextMarker", next))
	return b.String(), nil
}

func actionsXML(tag string, acts []fakeAction) string {
	var b strings.Builder
	b.WriteString("<" + tag + ">")
	for i, a := range acts {
		typ := a.Type
		if typ == "" {
			typ = "forward"
		}
		fmt.Fprintf(&b, "<member><Type>%s</Type><Order>%d</Order>", typ, i+1)
		if a.Plain != "" {
			fmt.Fprintf(&b, "<TargetGroupArn>%s</TargetGroupArn>", a.Plain)
		}
		if a.Fixed != "" {
			fmt.Fprintf(&b, "<FixedResponseConfig><StatusCode>%s</StatusCode><ContentType>text/plain</ContentType></FixedResponseConfig>", a.Fixed)
		}
		if len(a.Tuples) > 0 {
			b.WriteString("<ForwardConfig><TargetGroups>")
			for _, t := range a.Tuples {
				fmt.Fprintf(&b, "<member><TargetGroupArn>%s</TargetGroupArn>", t.ARN)
				if t.Weight >= 0 {
					fmt.Fprintf(&b, "<Weight>%d</Weight>", t.Weight)
				}
				b.WriteString("</member>")
			}
			b.WriteString("</TargetGroups><TargetGroupStickinessConfig><Enabled>false</Enabled></TargetGroupStickinessConfig></ForwardConfig>")
		}
		b.WriteString("</member>")
	}
	b.WriteString("</" + tag + ">")
	return b.String()
}

func (f *fakeCloud) describeListeners(form url.Values) (string, *fakeFault) {
	lbArn := form.Get("LoadBalancerArn")
	var sel []fakeListener
	for _, l := range f.listeners {
		if l.LBArn == lbArn {
			sel = append(sel, l)
		}
	}
	start, end, next := f.page(len(sel), form, "PageSize", "Marker")
	var b strings.Builder
	b.WriteString("<Listeners>")
	for _, l := range sel[start:end] {
		fmt.Fprintf(&b, "<member><ListenerArn>%s</ListenerArn><LoadBalancerArn>%s</LoadBalancerArn><Port>%d</Port><Protocol>%s</Protocol>%s</member>",
			l.ARN, l.LBArn, l.Port, l.Protocol, actionsXML("DefaultActions", l.Default))
	}
	b.WriteString("</Listeners>" + marker("NextMarker", next))
	return b.String(), nil
}

func (f *fakeCloud) describeRules(form url.Values) (string, *fakeFault) {
	rules, ok := f.rules[form.Get("ListenerArn")]
	if !ok {
		return "", &fakeFault{Code: "ListenerNotFound", Status: 400}
	}
	start, end, next := f.page(len(rules), form, "PageSize", "Marker")
	var b strings.Builder
	b.WriteString("<Rules>")
	for i, r := range rules[start:end] {
		fmt.Fprintf(&b, "<member><RuleArn>%s/rule-%d</RuleArn><Priority>%s</Priority><IsDefault>%t</IsDefault><Conditions>%s</Conditions>%s</member>",
			form.Get("ListenerArn"), start+i, r.Priority, r.Priority == "default", r.Conditions, actionsXML("Actions", r.Actions))
	}
	b.WriteString("</Rules>" + marker("NextMarker", next))
	return b.String(), nil
}

func (f *fakeCloud) describeListenerAttributes(form url.Values) (string, *fakeFault) {
	arn := form.Get("ListenerArn")
	if !slices.ContainsFunc(f.listeners, func(l fakeListener) bool { return l.ARN == arn }) {
		return "", &fakeFault{Code: "ListenerNotFound", Status: 400}
	}
	attrs := map[string]string{"routing.http.response.server.enabled": "true"}
	for k, v := range f.attrs[arn] {
		attrs[k] = v
	}
	keys := slices.Sorted(maps.Keys(attrs))
	var b strings.Builder
	b.WriteString("<Attributes>")
	for _, k := range keys {
		fmt.Fprintf(&b, "<member><Key>%s</Key><Value>%s</Value></member>", k, attrs[k])
	}
	b.WriteString("</Attributes>")
	return b.String(), nil
}

func (f *fakeCloud) describeTargetGroups(form url.Values) (string, *fakeFault) {
	lbArn, arns := form.Get("LoadBalancerArn"), listParam(form, "TargetGroupArns.member")
	var sel []fakeTG
	for _, tg := range f.tgs {
		if (lbArn == "" || slices.Contains(tg.LBArns, lbArn)) && (len(arns) == 0 || slices.Contains(arns, tg.ARN)) {
			sel = append(sel, tg)
		}
	}
	start, end, next := f.page(len(sel), form, "PageSize", "Marker")
	var b strings.Builder
	b.WriteString("<TargetGroups>")
	for _, tg := range sel[start:end] {
		fmt.Fprintf(&b, "<member><TargetGroupArn>%s</TargetGroupArn><TargetGroupName>%s</TargetGroupName><TargetType>%s</TargetType>", tg.ARN, tg.Name, tg.Type)
		if tg.Type != "lambda" {
			fmt.Fprintf(&b, "<Protocol>%s</Protocol><Port>%d</Port>", tg.Protocol, tg.Port)
		}
		b.WriteString("<LoadBalancerArns>")
		for _, a := range tg.LBArns {
			fmt.Fprintf(&b, "<member>%s</member>", a)
		}
		b.WriteString("</LoadBalancerArns></member>")
	}
	b.WriteString("</TargetGroups>" + marker("NextMarker", next))
	return b.String(), nil
}

func (f *fakeCloud) describeTargetHealth(form url.Values) (string, *fakeFault) {
	arn := form.Get("TargetGroupArn")
	targets, ok := f.targets[arn]
	if !ok {
		found := false
		for _, tg := range f.tgs {
			found = found || tg.ARN == arn
		}
		if !found {
			return "", &fakeFault{Code: "TargetGroupNotFound", Status: 400}
		}
	}
	var b strings.Builder
	b.WriteString("<TargetHealthDescriptions>")
	for _, t := range targets {
		b.WriteString("<member><Target>")
		fmt.Fprintf(&b, "<Id>%s</Id>", t.ID)
		if t.Port > 0 {
			fmt.Fprintf(&b, "<Port>%d</Port>", t.Port)
		}
		if t.AZ != "" {
			fmt.Fprintf(&b, "<AvailabilityZone>%s</AvailabilityZone>", t.AZ)
		}
		fmt.Fprintf(&b, "</Target><TargetHealth><State>%s</State>", t.State)
		if t.Reason != "" {
			fmt.Fprintf(&b, "<Reason>%s</Reason><Description>fake %s</Description>", t.Reason, t.Reason)
		}
		b.WriteString("</TargetHealth></member>")
	}
	b.WriteString("</TargetHealthDescriptions>")
	return b.String(), nil
}

func (f *fakeCloud) describeInstances(form url.Values) string {
	var ids []string
	for i := 1; ; i++ {
		name := form.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			break
		}
		if name == "instance-id" {
			ids = append(ids, listParam(form, "Filter."+strconv.Itoa(i)+".Value")...)
		}
	}
	ids = append(ids, listParam(form, "InstanceId")...)
	var sel []fakeInstance
	for _, id := range ids {
		if in, ok := f.instances[id]; ok {
			sel = append(sel, in)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].ID < sel[j].ID })
	start, end, next := f.page(len(sel), form, "MaxResults", "NextToken")
	var b strings.Builder
	b.WriteString("<reservationSet>")
	for _, in := range sel[start:end] {
		fmt.Fprintf(&b, "<item><reservationId>r-%s</reservationId><instancesSet><item><instanceId>%s</instanceId><instanceType>%s</instanceType><instanceState><code>16</code><name>running</name></instanceState><placement><availabilityZone>%s</availabilityZone></placement>",
			in.ID, in.ID, in.Type, in.AZ)
		if in.PrivateIP != "" {
			fmt.Fprintf(&b, "<privateIpAddress>%s</privateIpAddress>", in.PrivateIP)
		}
		if in.PublicIP != "" {
			fmt.Fprintf(&b, "<ipAddress>%s</ipAddress>", in.PublicIP)
		}
		b.WriteString("</item></instancesSet></item>")
	}
	b.WriteString("</reservationSet>" + marker("nextToken", next))
	return b.String()
}
