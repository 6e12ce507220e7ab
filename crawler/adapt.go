package crawler

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/trawlhq/trawl/session"
)

// Adaptive politeness: a host's interval (the least gap between request
// starts, which the frontier's schedule keeps) is its floor — the largest of
// Delay, 1/Rate and robots.txt Crawl-delay — raised by two mechanisms:
//
//   - Backoff (HostBackoff), driven by overload signals: a 429 or 503
//     response, a connection reset or a timeout connecting. Each signal
//     doubles the host's interval (at least HostBackoff, at most
//     MaxHostDelay): its rate halves at once. Each response that is not an
//     overload signal then takes back an eighth of the increase, so the
//     rate climbs back to the floor over eight responses. This is AIMD as
//     TCP does it, counted in responses rather than round trips: halve on
//     congestion, recover in small equal steps, so a server that is still
//     overloaded says so again before the crawl is back at full speed. A
//     Retry-After on the signal (capped at MaxRetryAfter; the cap is
//     logged) also pauses the whole host until then: no request to it
//     starts before.
//   - AutoThrottle, driven by latency (Scrapy's AutoThrottle model): after
//     each response the target interval is latency / TargetConcurrency; a
//     higher target is taken at once, a lower one halfway (the average of
//     the current and the target), and a lower one from a response whose
//     status is not 200 is ignored (error pages are small and fast). With
//     latency L and interval L/N, about N requests are in flight to the host.
//
// The interval never drops below the floor; MaxHostDelay caps what the two
// mechanisms add. Pauses use the frontier's HostPauser when it has one (no
// worker waits); otherwise the workers holding leases of the host wait in
// the gate.

// adaptPolicy is the adaptive part of the settings.
type adaptPolicy struct {
	backoff time.Duration // least interval after an overload signal; 0: off
	ceiling time.Duration // most the mechanisms raise an interval to
	auto    bool          // AutoThrottle
	target  float64       // AutoThrottle's target concurrency
}

// recoverySteps is the number of good responses that take a host's
// backoff back to its floor.
const recoverySteps = 8

// adaptive is one host's adaptive politeness state. The zero value is a
// host at its floor. Not safe for concurrent use: hostState.mu guards it.
type adaptive struct {
	backoff  time.Duration // interval set by overload signals; 0 for none
	step     time.Duration // what each good response takes off backoff
	throttle time.Duration // AutoThrottle's interval; 0 before the first response
	paused   time.Time     // no request starts before; zero for none
	reason   string        // the last overload signal ("429", "503", "reset", "connect timeout")
}

// interval is the host's interval over floor under p.
func (a *adaptive) interval(floor time.Duration, p adaptPolicy) time.Duration {
	extra := min(max(a.backoff, a.throttle), max(p.ceiling, floor))
	return max(floor, extra)
}

// why names what sets the host's interval above floor; "" when nothing does.
func (a *adaptive) why(floor time.Duration, p adaptPolicy, now time.Time) string {
	switch {
	case a.paused.After(now) || (a.backoff > floor && a.backoff >= a.throttle):
		return a.reason
	case a.throttle > floor:
		return "latency"
	}
	return ""
}

// overload records an overload signal at now. pause, when positive, is how
// long the server asked the host to be left alone (Retry-After, capped).
func (a *adaptive) overload(reason string, pause time.Duration, floor time.Duration, p adaptPolicy, now time.Time) {
	if p.backoff <= 0 {
		return
	}
	ceiling := max(p.ceiling, floor)
	a.backoff = min(max(2*a.interval(floor, p), p.backoff), ceiling)
	a.step = max((a.backoff-floor)/recoverySteps, 1)
	a.reason = reason
	if until := now.Add(pause); pause > 0 && until.After(a.paused) {
		a.paused = until
	}
}

// good records a response that is not an overload signal: status and
// latency feed AutoThrottle, and the backoff recovers one step.
func (a *adaptive) good(status int, latency time.Duration, floor time.Duration, p adaptPolicy) {
	if a.backoff > 0 {
		a.backoff -= a.step
		if a.backoff <= floor {
			a.backoff, a.step = 0, 0
		}
	}
	if !p.auto || latency <= 0 {
		return
	}
	target := min(time.Duration(float64(latency)/p.target), max(p.ceiling, floor))
	switch {
	case a.throttle == 0 || target >= a.throttle:
		a.throttle = target
	case status == http.StatusOK:
		a.throttle = (a.throttle + target) / 2
	}
}

// overloadErr names the overload signal a fetch error is, or returns "":
// a connection reset by the peer, or a timeout before the response head
// (connecting, or waiting for the server).
func overloadErr(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return "reset"
	}
	var se *session.Error
	if errors.As(err, &se) && se.Op == "send" && se.Timeout() {
		return "timeout"
	}
	return ""
}

// HostDelay is the adaptive politeness state of one host whose interval is
// above its floor or which is paused.
type HostDelay struct {
	Host        string        `json:"host"`
	Interval    time.Duration `json:"-"`                     // the least gap between request starts now
	IntervalSec float64       `json:"interval_s"`            // Interval in seconds
	FloorSec    float64       `json:"floor_s"`               // Delay, 1/Rate or Crawl-delay, in seconds
	PausedUntil time.Time     `json:"paused_until,omitzero"` // Retry-After: no request before; zero for none
	Reason      string        `json:"reason"`                // "429", "503", "reset", "timeout" or "latency"
}

// maxSlowHosts bounds Stats.SlowHosts.
const maxSlowHosts = 20

// slowHosts returns the adapted hosts, slowest first, at most maxSlowHosts,
// and how many there are in all. It keeps only the slowest while it walks
// them: with AutoThrottle every host of a large crawl may be adapted, and
// Stats runs at every status line and scrape.
func (c *Crawler) slowHosts() ([]HostDelay, int64) {
	now := c.s.Now()
	var out []HostDelay
	var n int64
	slower := func(a, b HostDelay) int { // slowest first, then by host
		if a.Interval != b.Interval {
			if a.Interval > b.Interval {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Host, b.Host)
	}
	c.slow.Range(func(_, v any) bool {
		h := v.(*hostState)
		h.mu.Lock()
		floor := c.floor(h)
		d := HostDelay{
			Host:     h.key,
			Interval: h.adapt.interval(floor, c.s.adapt),
			FloorSec: floor.Seconds(),
			Reason:   h.adapt.why(floor, c.s.adapt, now),
		}
		if h.adapt.paused.After(now) {
			d.PausedUntil = h.adapt.paused
		}
		h.mu.Unlock()
		if d.Reason == "" {
			return true
		}
		n++
		if len(out) == maxSlowHosts && slower(d, out[len(out)-1]) >= 0 {
			return true
		}
		d.IntervalSec = d.Interval.Seconds()
		i, _ := slices.BinarySearchFunc(out, d, slower)
		out = slices.Insert(out, i, d)
		if len(out) > maxSlowHosts {
			out = out[:maxSlowHosts]
		}
		return true
	})
	return out, n
}

// overloaded applies an overload signal from host h: its interval doubles
// and, when the response carried a Retry-After, the whole host is paused.
func (c *Crawler) overloaded(ctx context.Context, h *hostState, reason string, hdr http.Header) {
	if c.s.adapt.backoff <= 0 {
		return
	}
	now := c.s.Now()
	var pause time.Duration
	if hdr != nil {
		if d, ok := retryAfter(hdr.Get("Retry-After"), now); ok {
			if d > c.s.MaxRetryAfter {
				c.log.Warn("Retry-After capped", "host", h.key, "retry_after", d, "cap", c.s.MaxRetryAfter)
				d = c.s.MaxRetryAfter
			}
			pause = d
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	floor := c.floor(h)
	h.adapt.overload(reason, pause, floor, c.s.adapt, now)
	c.slow.Store(h.key, h)
	if pause > 0 {
		h.pausedNanos.Store(h.adapt.paused.UnixNano())
		if c.pauser != nil {
			if err := c.pauser.PauseHost(ctx, h.key, h.adapt.paused); err != nil {
				c.log.Warn("pause host", "host", h.key, "err", err)
			}
		}
	}
	iv := h.adapt.interval(floor, c.s.adapt)
	c.log.Info("host slowed", "host", h.key, "reason", reason, "interval", iv, "paused_for", pause)
	c.applyAdaptedLocked(ctx, h, iv)
}

// responded records a response from host h that is not an overload signal.
func (c *Crawler) responded(ctx context.Context, h *hostState, status int, latency time.Duration) {
	if c.s.adapt.backoff <= 0 && !c.s.adapt.auto {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.adapt == (adaptive{}) && !c.s.adapt.auto {
		return
	}
	floor := c.floor(h)
	was := h.adapt.backoff
	h.adapt.good(status, latency, floor, c.s.adapt)
	iv := h.adapt.interval(floor, c.s.adapt)
	if was > 0 && h.adapt.backoff == 0 {
		c.log.Info("host recovered", "host", h.key, "interval", iv)
	}
	if iv > floor {
		c.slow.Store(h.key, h)
	} else if !h.adapt.paused.After(c.s.Now()) {
		c.slow.Delete(h.key)
		if h.adapt.throttle == 0 {
			h.adapt = adaptive{} // back to the fast path above
		}
	}
	c.applyAdaptedLocked(ctx, h, iv)
}

// applyAdaptedLocked gives the frontier the host's new interval when it
// moved far enough from the one the frontier has (an eighth, or back to
// the floor): AutoThrottle changes it a little on every response, and
// every change costs a frontier call. h.mu held.
func (c *Crawler) applyAdaptedLocked(ctx context.Context, h *hostState, iv time.Duration) {
	was := h.interval()
	d := iv - was
	if d < 0 {
		d = -d
	}
	if d == 0 || (d < was/8 && iv != c.floor(h)) {
		return
	}
	if !h.registered.Load() {
		return // register applies it with the host's first policy
	}
	c.log.Debug("host interval", "host", h.key, "interval", iv, "was", was)
	if err := c.applyPolicyLocked(ctx, h); err != nil {
		c.log.Warn("set host policy", "host", h.key, "err", err)
	}
}
