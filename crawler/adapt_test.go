package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/session"
)

const ms = time.Millisecond

func TestAdaptiveBackoff(t *testing.T) {
	p := adaptPolicy{backoff: 100 * ms, ceiling: time.Second}
	now := time.Unix(1000, 0)
	t.Run("doubles from HostBackoff to the ceiling", func(t *testing.T) {
		var a adaptive
		var got []time.Duration
		for range 6 {
			a.overload("429", 0, 0, p, now)
			got = append(got, a.interval(0, p))
		}
		want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("intervals %v, want %v", got, want)
		}
	})
	t.Run("doubles the floor", func(t *testing.T) {
		var a adaptive
		a.overload("503", 0, 300*ms, p, now)
		if got := a.interval(300*ms, p); got != 600*ms {
			t.Errorf("interval %v, want 600ms", got)
		}
	})
	t.Run("floor above the ceiling wins", func(t *testing.T) {
		var a adaptive
		a.overload("503", 0, 3*time.Second, p, now)
		if got := a.interval(3*time.Second, p); got != 3*time.Second {
			t.Errorf("interval %v, want the 3s floor", got)
		}
	})
	t.Run("recovers linearly in eight responses", func(t *testing.T) {
		var a adaptive
		a.overload("429", 0, 20*ms, p, now) // 100ms: the increase is 80ms
		var got []time.Duration
		for range recoverySteps + 2 {
			a.good(200, 0, 20*ms, p)
			got = append(got, a.interval(20*ms, p))
		}
		want := []time.Duration{90 * ms, 80 * ms, 70 * ms, 60 * ms, 50 * ms, 40 * ms, 30 * ms, 20 * ms, 20 * ms, 20 * ms}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("intervals %v, want %v", got, want)
		}
		if a.backoff != 0 || a.why(20*ms, p, now) != "" {
			t.Errorf("after recovery: backoff %v, why %q", a.backoff, a.why(20*ms, p, now))
		}
	})
	t.Run("Retry-After pauses, never shortened", func(t *testing.T) {
		var a adaptive
		a.overload("429", 2*time.Second, 0, p, now)
		a.overload("429", time.Second, 0, p, now)
		if !a.paused.Equal(now.Add(2 * time.Second)) {
			t.Errorf("paused until %v, want now+2s", a.paused.Sub(now))
		}
		if got := a.why(0, p, now); got != "429" {
			t.Errorf("why %q, want 429", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		var a adaptive
		a.overload("429", time.Second, 0, adaptPolicy{ceiling: time.Second}, now)
		if a != (adaptive{}) {
			t.Errorf("state %+v with backoff off", a)
		}
	})
}

func TestAutoThrottle(t *testing.T) {
	p := adaptPolicy{auto: true, target: 2, ceiling: time.Second}
	var a adaptive
	step := func(status int, latency, floor time.Duration) time.Duration {
		a.good(status, latency, floor, p)
		return a.interval(floor, p)
	}
	for _, tc := range []struct {
		name    string
		status  int
		latency time.Duration
		floor   time.Duration
		want    time.Duration
	}{
		{"first response sets latency/target", 200, 20 * ms, 0, 10 * ms},
		{"rise taken at once", 200, 400 * ms, 0, 200 * ms},
		{"fall taken halfway", 200, 40 * ms, 0, 110 * ms},
		{"fall from an error page ignored", 404, 2 * ms, 0, 110 * ms},
		{"rise from an error page taken", 500, 300 * ms, 0, 150 * ms},
		{"ceiling", 200, 10 * time.Second, 0, time.Second},
		{"floor", 200, 0 + 2*ms, 3 * time.Second, 3 * time.Second},
	} {
		if got := step(tc.status, tc.latency, tc.floor); got != tc.want {
			t.Fatalf("%s: interval %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := (&adaptive{throttle: 50 * ms}).why(0, p, time.Now()); got != "latency" {
		t.Errorf("why %q, want latency", got)
	}
}

func TestOverloadErr(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&session.Error{Op: "send", Err: fmt.Errorf("read: %w", syscall.ECONNRESET)}, "reset"},
		{&session.Error{Op: "send", Err: context.DeadlineExceeded}, "timeout"},
		{&session.Error{Op: "read", Err: context.DeadlineExceeded}, ""},
		{&session.Error{Op: "send", Err: syscall.ECONNREFUSED}, ""},
		{errors.New("other"), ""},
	} {
		if got := overloadErr(tc.err); got != tc.want {
			t.Errorf("overloadErr(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// logRecorder is a slog.Handler keeping the messages of records.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// TestHostBackoffRetryAfter: a host answering 429 with Retry-After: 2 to
// one request gets no request for 2 s, then comes back at a reduced rate
// and recovers, while a second host is crawled throughout.
//
// With a frontier that cannot pause hosts (frontier/redis), the workers
// holding the host's leases wait in the gate instead.
func TestHostBackoffRetryAfter(t *testing.T) {
	t.Run("pauser", func(t *testing.T) { testHostBackoff(t, false) })
	t.Run("gate", func(t *testing.T) { testHostBackoff(t, true) })
}

// noPauser hides a frontier's HostPauser.
type noPauser struct{ frontier.Frontier }

func testHostBackoff(t *testing.T, hidePauser bool) {
	const n = 40
	var once sync.Once
	a := newSite(t, nil)
	var tooMany time.Time
	a.handle = func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i >= n {
			http.NotFound(w, r)
			return
		}
		time.Sleep(20 * ms) // the server is slow; the crawl of this host lasts
		hit := false
		if i == 2 {
			once.Do(func() { hit = true })
		}
		if hit {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			w.(http.Flusher).Flush()
			a.mu.Lock()
			tooMany = time.Now() // the 429 is sent: requests already under way may still arrive
			a.mu.Unlock()
			return
		}
		var links []string
		for _, j := range []int{2*i + 1, 2*i + 2} {
			if j < n {
				links = append(links, "/p/"+strconv.Itoa(j))
			}
		}
		html(w, links...)
	}
	b := fanSite(t, 250, 20*ms, "") // >= 2.5 s at PerHost 2: crawled throughout the pause
	bURL := strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
	logs := &logRecorder{}
	const backoff = 100 * ms
	r := newRig(t, Config{Workers: 8, PerHost: 2, IgnoreRobots: true, HostBackoff: backoff,
		Logger: slog.New(logs)}, sessionConfig())
	if hidePauser {
		r.c.front = noPauser{r.c.front}
		r.c.pauser = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.c.Run(ctx, a.URL+"/p/0", bURL+"/p/0"); err != nil {
		t.Fatalf("Run: %v", err)
	}

	if tooMany.IsZero() {
		t.Fatal("the 429 was never sent")
	}
	// A request the crawler sent before it read the 429 may arrive after
	// it, however late a loaded machine delivers it: with PerHost 2 the
	// 429's lease holds one slot until the pause is set, so at most one
	// request (the other slot's) can be on its way. Any more were sent
	// during the pause.
	end := tooMany.Add(2 * time.Second)
	var after []time.Time
	var during []time.Duration
	for _, ts := range a.pageStarts() {
		if ts.After(tooMany) && ts.Before(end) {
			during = append(during, ts.Sub(tooMany))
		}
		if !ts.Before(end) {
			after = append(after, ts)
		}
	}
	if len(during) > 1 {
		t.Errorf("%d requests to the paused host during its pause, at %v after the 429; want at most the one already sent", len(during), during)
	}
	if got := len(a.pageHits()); got != n {
		t.Errorf("paused host: %d pages fetched, want %d", got, n)
	}
	inPause := 0
	for _, ts := range b.pageStarts() {
		if ts.After(tooMany) && ts.Before(end) {
			inPause++
		}
	}
	if inPause < 20 {
		t.Errorf("other host: %d requests during the pause, want it crawled on (>= 20)", inPause)
	}
	// Back at a reduced rate: the interval doubled to HostBackoff, less a
	// step per good response (the one in flight with the 429, the first
	// after the pause), so the first gap after the pause is at least 6/8 of
	// it; unslowed, the host's gaps are about 10 ms.
	//
	// The one request that may have been on its way when the 429 was sent
	// (see above) can also arrive after the pause, on a machine loaded
	// enough to hold it for 2 s: when none arrived during the pause, the
	// first request after it may be that one, and the gated ones follow.
	if len(after) < 3 {
		t.Fatalf("%d requests after the pause", len(after))
	}
	g := after[1].Sub(after[0])
	if g < backoff*6/8*9/10 && len(during) == 0 {
		g = after[2].Sub(after[1])
	}
	if g < backoff*6/8*9/10 {
		t.Errorf("first gap after the pause %v, want >= %v (requests after it at %v)", g, backoff*6/8, after[:3])
	}
	if !logs.has("host slowed host="+hostPort(a.URL)+" reason=429") || !logs.has("host recovered host="+hostPort(a.URL)) {
		t.Errorf("logs lack the slow-down and recovery of the host: %q", logs.msgs)
	}
	if st := r.c.Stats(); len(st.SlowHosts) != 0 {
		t.Errorf("slow hosts after recovery: %+v", st.SlowHosts)
	}
}

func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

// TestAutoThrottleLatency: with AutoThrottle, a host whose latency rises
// from 10 ms to 200 ms gets requests spaced by about its latency (one in
// flight, the target), while a fast host next to it is not slowed.
func TestAutoThrottleLatency(t *testing.T) {
	const fast, slow = 10 * ms, 200 * ms
	const n, nFast = 26, 20 // pages; the first nFast answer fast
	var served sync.Mutex
	count := 0
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil || i >= n {
			http.NotFound(w, r)
			return
		}
		served.Lock()
		count++
		late := count > nFast
		served.Unlock()
		if late {
			time.Sleep(slow) // the server is slow; this is not crawler politeness
		} else {
			time.Sleep(fast)
		}
		var links []string
		for _, j := range []int{2*i + 1, 2*i + 2} {
			if j < n {
				links = append(links, "/p/"+strconv.Itoa(j))
			}
		}
		html(w, links...)
	}
	f := fanSite(t, 80, fast, "")
	fURL := strings.Replace(f.URL, "127.0.0.1", "localhost", 1)
	r := crawl(t, Config{Workers: 8, PerHost: 2, IgnoreRobots: true, AutoThrottle: true},
		s.URL+"/p/0", fURL+"/p/0")

	starts := s.pageStarts()
	if len(starts) != n {
		t.Fatalf("slow host: %d requests, want %d", len(starts), n)
	}
	// Requests started once the first slow answers were in (two may have
	// started at the fast rate meanwhile, PerHost 2) are spaced by the
	// slow latency: about 5 a second where there were 100.
	late := starts[nFast+2:]
	for i := 1; i < len(late); i++ {
		if g := late[i].Sub(late[i-1]); g < slow*9/10 {
			t.Errorf("slow host: gap %v between requests %d and %d, want >= %v", g, nFast+1+i, nFast+2+i, slow)
		}
	}
	byHost := map[string]HostDelay{}
	for _, d := range r.c.Stats().SlowHosts {
		byHost[d.Host] = d
	}
	sd, fd := byHost[hostPort(s.URL)], byHost[hostPort(fURL)]
	if sd.Interval < slow || sd.Reason != "latency" {
		t.Errorf("slow host state %+v, want interval >= %v for latency", sd, slow)
	}
	if fd.Interval >= sd.Interval/4 {
		t.Errorf("fast host interval %v next to the slow host's %v: slowed too", fd.Interval, sd.Interval)
	}
}

// TestOverloadSignals: a connection reset slows the host like a 503 (the
// URL is retried and fetched), and a Retry-After beyond MaxRetryAfter is
// capped, with the cap logged.
func TestOverloadSignals(t *testing.T) {
	var longWait sync.Once
	var resets atomic.Int32
	s := newSite(t, nil)
	s.handle = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(w, "/reset", "/busy")
		case "/reset":
			// net/http resends a GET once when a reused connection fails:
			// reset twice to be seen.
			if resets.Add(1) <= 2 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
				_ = conn.Close()
				return
			}
			html(w)
		case "/busy":
			busy := false
			longWait.Do(func() { busy = true })
			if busy {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			html(w)
		default:
			http.NotFound(w, r)
		}
	}
	logs := &logRecorder{}
	r := crawl(t, Config{Workers: 2, PerHost: 1, IgnoreRobots: true, MaxRetryAfter: 50 * ms,
		Logger: slog.New(logs)}, s.URL+"/")
	host := hostPort(s.URL)
	for _, want := range []string{
		"host slowed host=" + host + " reason=reset",
		"host slowed host=" + host + " reason=503",
		"Retry-After capped host=" + host + " retry_after=1h0m0s cap=50ms",
	} {
		if !logs.has(want) {
			t.Errorf("no log line %q in %q", want, logs.msgs)
		}
	}
	for u, rec := range r.col.byURL(t) {
		if rec.Status != 200 {
			t.Errorf("%s: status %d error %q, want fetched on retry", u, rec.Status, rec.Error)
		}
	}
}

// TestSlowHostsTop: Stats lists the 20 slowest of many slowed hosts,
// slowest first (then by name), and counts them all.
func TestSlowHostsTop(t *testing.T) {
	r := newRig(t, Config{IgnoreRobots: true, HostBackoff: 100 * ms, MaxHostDelay: time.Hour}, sessionConfig())
	ctx := context.Background()
	const hosts = 57
	var all []HostDelay
	for i := range hosts {
		h := r.c.host(fmt.Sprintf("h%02d.test", (i*37)%hosts)) // not in name order
		signals := i%6 + 1
		for range signals {
			r.c.overloaded(ctx, h, "503", nil)
		}
		iv := 100 * ms << (signals - 1)
		all = append(all, HostDelay{Host: h.key, Interval: iv})
	}
	slices.SortFunc(all, func(a, b HostDelay) int {
		if a.Interval != b.Interval {
			return int(b.Interval - a.Interval)
		}
		return strings.Compare(a.Host, b.Host)
	})
	st := r.c.Stats()
	if st.HostsSlowed != hosts {
		t.Errorf("HostsSlowed = %d, want %d", st.HostsSlowed, hosts)
	}
	if len(st.SlowHosts) != maxSlowHosts {
		t.Fatalf("%d slow hosts listed, want %d", len(st.SlowHosts), maxSlowHosts)
	}
	for i, d := range st.SlowHosts {
		if d.Host != all[i].Host || d.Interval != all[i].Interval || d.Reason != "503" || d.IntervalSec != d.Interval.Seconds() {
			t.Errorf("slow host %d: %s %v %q, want %s %v 503", i, d.Host, d.Interval, d.Reason, all[i].Host, all[i].Interval)
		}
	}
}
