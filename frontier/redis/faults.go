package redis

import (
	"context"
)

// do runs fn through Redis outages (redisfault.Retrier): until it
// succeeds, fails for a reason other than Redis being unavailable, ctx
// ends, the Frontier is closed or Config.MaxOutage passes. retried reports
// whether an earlier attempt failed after it may have reached the server
// (its effect may have been applied).
func (f *Frontier) do(ctx context.Context, op string, fn func(ctx context.Context) error) (retried bool, err error) {
	retried, err = f.retry.Do(ctx, op, fn)
	if retried && f.seen != nil {
		// Redis was unreachable: it may have restarted or failed over and
		// lost some of what it had seen.
		f.seen.forget()
	}
	return retried, err
}
