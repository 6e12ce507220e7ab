package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
	"github.com/trawlhq/trawl/internal/redisfault"
)

const (
	backoffMin    = 50 * time.Millisecond
	backoffMax    = 2 * time.Second
	outageLogEach = 10 * time.Second
)

// do runs fn until it succeeds, fails for a reason other than Redis being
// unavailable, ctx ends, the Frontier is closed or Config.MaxOutage passes.
// retried reports whether an earlier attempt failed after it may have
// reached the server (its effect may have been applied).
func (f *Frontier) do(ctx context.Context, op string, fn func(ctx context.Context) error) (retried bool, err error) {
	backoff := backoffMin
	var start time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		err = fn(ctx)
		if err == nil {
			if retried {
				f.recovered()
			}
			return retried, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return retried, ctxErr
		}
		if errors.Is(err, goredis.ErrClosed) || f.isClosed() {
			return retried, frontier.ErrClosed
		}
		if !retryable(err) {
			return retried, fmt.Errorf("frontier/redis: %s: %w", op, err)
		}
		if start.IsZero() {
			start = time.Now()
		}
		if f.cfg.MaxOutage > 0 && time.Since(start) >= f.cfg.MaxOutage {
			return retried, fmt.Errorf("frontier/redis: %s: Redis unavailable for %v: %w", op, time.Since(start).Round(time.Millisecond), err)
		}
		retried = true
		f.outage(op, err, backoff)
		if timer == nil {
			timer = time.NewTimer(backoff)
		} else {
			timer.Reset(backoff)
		}
		select {
		case <-ctx.Done():
			return retried, ctx.Err()
		case <-f.done:
			return retried, frontier.ErrClosed
		case <-timer.C:
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// outage logs that Redis is unavailable: once when the outage starts, then
// at most every outageLogEach, however many operations are retrying.
func (f *Frontier) outage(op string, err error, backoff time.Duration) {
	f.outageMu.Lock()
	now := time.Now()
	first := f.outageAt.IsZero()
	if first {
		f.outageAt = now
	}
	logIt := first || now.Sub(f.outageLog) >= outageLogEach
	if logIt {
		f.outageLog = now
	}
	since := now.Sub(f.outageAt)
	f.outageMu.Unlock()
	if logIt {
		f.log.Warn("frontier/redis: Redis unavailable, retrying",
			"crawl", f.cfg.Name, "op", op, "for", since.Round(time.Millisecond), "retry_in", backoff, "err", err)
	}
}

// recovered logs the end of an outage once.
func (f *Frontier) recovered() {
	f.outageMu.Lock()
	at := f.outageAt
	f.outageAt = time.Time{}
	f.outageMu.Unlock()
	if !at.IsZero() {
		f.log.Info("frontier/redis: Redis reachable again", "crawl", f.cfg.Name, "outage", time.Since(at).Round(time.Millisecond))
	}
}

// retryable reports whether err means Redis is (perhaps briefly)
// unreachable or not serving, rather than that the request is wrong.
func retryable(err error) bool { return redisfault.Retryable(err) }
