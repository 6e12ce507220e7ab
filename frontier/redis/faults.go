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
	return f.retry.Do(ctx, op, fn)
}
