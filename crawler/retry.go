package crawler

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trawlhq/trawl/session"
)

// retryReason is why an attempt was retried (Stats.RetriesByReason).
type retryReason int

const (
	retryTimeout    retryReason = iota // a timeout
	retryConnection                    // another transport error: refused, reset, DNS, TLS, truncated body
	retry429                           // status 429
	retry5xx                           // status 500, 502, 503 or 504
	retryHook                          // Config.AfterResponse returned ErrRetry
	numRetryReasons
)

// Reasons of Stats.RetriesByReason.
const (
	RetryTimeout    = "timeout"
	RetryConnection = "connection"
	Retry429        = "429"
	Retry5xx        = "5xx"
	RetryHook       = "hook"
)

func (r retryReason) String() string {
	return [...]string{RetryTimeout, RetryConnection, Retry429, Retry5xx, RetryHook}[r]
}

// retryReasonOf classifies a retried attempt: by its error when err is
// not nil, else by its status.
func retryReasonOf(err error, status int) retryReason {
	switch {
	case err != nil:
		var t interface{ Timeout() bool }
		if errors.As(err, &t) && t.Timeout() {
			return retryTimeout
		}
		return retryConnection
	case status == http.StatusTooManyRequests:
		return retry429
	}
	return retry5xx
}

// retryableStatus reports whether a status is worth another attempt:
// 429 Too Many Requests and the transient server errors.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableErr reports whether a fetch error is transient: a timeout, or a
// failure sending the request or reading the response (connection refused
// or reset, DNS, TLS, truncated body). Invalid URLs, refused redirects and a
// closed session are final.
func retryableErr(err error) bool {
	if err == nil || errors.Is(err, session.ErrClosed) || errors.Is(err, session.ErrTooManyRedirects) {
		return false
	}
	var se *session.Error
	if errors.As(err, &se) {
		if se.Timeout() {
			return true
		}
		return se.Op == "send" || se.Op == "read"
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// backoff is the wait before retry number attempt+1 (attempt counts from
// 0): RetryBackoff doubled per attempt, capped at MaxBackoff, with "equal
// jitter" (a uniform pick in [d/2, d]) so that many failures at once do not
// come back together.
func (s *settings) backoff(attempt int) time.Duration {
	d := s.RetryBackoff
	for i := 0; i < attempt && d < s.MaxBackoff; i++ {
		d *= 2
	}
	if d > s.MaxBackoff {
		d = s.MaxBackoff
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// retryAfter parses a Retry-After header value: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), relative to now. ok is false when the value
// is absent or malformed. A date in the past gives 0.
func retryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// retryDelay is the wait before the next attempt of a URL whose attempt
// number attempt (from 0) failed, honouring the response's Retry-After,
// capped at MaxRetryAfter, when there is one.
func (s *settings) retryDelay(attempt int, h http.Header) time.Duration {
	if h != nil {
		if d, ok := retryAfter(h.Get("Retry-After"), s.Now()); ok {
			if d > s.MaxRetryAfter {
				d = s.MaxRetryAfter
			}
			return d
		}
	}
	return s.backoff(attempt)
}
