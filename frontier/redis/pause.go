package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
)

var _ frontier.HostPauser = (*Frontier)(nil)

// pauseScript: ARGV[6] host, ARGV[7] until (Unix ms). The host's hold
// becomes the later of its hold and until; its next-allowed time, and its
// place on the ready schedule, move to the hold if that is later. The next
// lease after the hold sets next-allowed as usual, and policyScript keeps
// the hold when it recomputes next-allowed.
var pauseScript = goredis.NewScript(prelude + `
local host, untl = ARGV[6], tonumber(ARGV[7])
local hk = P..'h:'..host
local hold = math.max(tonumber(redis.call('HGET', hk, 'hold')) or 0, untl)
local nxt = math.max(tonumber(redis.call('HGET', hk, 'next')) or 0, hold)
redis.call('HSET', hk, 'hold', hold, 'next', nxt)
local at = tonumber(redis.call('ZSCORE', K_HOSTS, host))
if at and at < nxt then redis.call('ZADD', K_HOSTS, 'XX', nxt, host) end
return 1
`)

// PauseHost implements frontier.HostPauser: no process of the crawl leases
// an entry of host before until. until is compared with the clock of the
// scripts (Config.Now, or the Redis server's), so processes whose clocks
// differ from the server's pause for a little more or less.
func (f *Frontier) PauseHost(ctx context.Context, host string, until time.Time) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	if host == "" || strings.ContainsAny(host, "\r\n") {
		return fmt.Errorf("frontier/redis: pause host: bad host %q", host)
	}
	_, err := f.do(ctx, "pause host", func(ctx context.Context) error {
		return pauseScript.Run(ctx, f.client, f.hosts, f.args(host, until.UnixMilli())...).Err()
	})
	return err
}
