package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/frontier"
)

var _ frontier.RobotsStore = (*Frontier)(nil)

// robots.txt answers shared by the processes of a crawl: "robots:HOST" is
// a hash {status, body} expiring with the answer's max age, and
// "robotsclaim:HOST" a claim (SET NX PX) held by the process fetching it.

// LoadRobots implements frontier.RobotsStore.
func (f *Frontier) LoadRobots(ctx context.Context, host string) (int, []byte, bool, error) {
	if f.isClosed() {
		return 0, nil, false, frontier.ErrClosed
	}
	vals, err := f.client.HMGet(ctx, f.prefix+"robots:"+host, "status", "body").Result()
	if err != nil {
		return 0, nil, false, err
	}
	st, ok1 := vals[0].(string)
	body, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, nil, false, nil
	}
	status, err := strconv.Atoi(st)
	if err != nil {
		return 0, nil, false, errors.New("redis: robots.txt of " + host + ": bad status " + strconv.Quote(st))
	}
	return status, []byte(body), true, nil
}

// ClaimRobots implements frontier.RobotsStore.
func (f *Frontier) ClaimRobots(ctx context.Context, host string, ttl time.Duration) (bool, error) {
	if f.isClosed() {
		return false, frontier.ErrClosed
	}
	ok, err := f.client.SetNX(ctx, f.prefix+"robotsclaim:"+host, f.id, ttl).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	return ok, err
}

// StoreRobots implements frontier.RobotsStore.
func (f *Frontier) StoreRobots(ctx context.Context, host string, status int, body []byte, maxAge time.Duration) error {
	if f.isClosed() {
		return frontier.ErrClosed
	}
	key := f.prefix + "robots:" + host
	_, err := f.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, key, "status", strconv.Itoa(status), "body", body)
		if maxAge > 0 {
			p.PExpire(ctx, key, maxAge)
		}
		p.Del(ctx, f.prefix+"robotsclaim:"+host)
		return nil
	})
	return err
}
