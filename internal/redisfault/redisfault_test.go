package redisfault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/trawlhq/trawl/internal/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.Stop()
	os.Exit(code)
}

func TestRetryable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A port nothing listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	down := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer down.Close()
	refused := down.Ping(ctx).Err()

	// A request Redis refuses: WRONGTYPE.
	c := redistest.Client(t)
	key := "redisfault:" + redistest.Name(t)
	defer c.Del(ctx, key)
	if err := c.Set(ctx, key, "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	wrongType := c.HGet(ctx, key, "f").Err()

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", refused, true},
		{"wrapped connection refused", fmt.Errorf("op: %w", refused), true},
		{"loading", errors.New("LOADING Redis is loading the dataset in memory"), true},
		{"failover", errors.New("READONLY You can't write against a read only replica."), true},
		{"cluster down", errors.New("CLUSTERDOWN The cluster is down"), true},
		{"wrong type", wrongType, false},
		{"script error", errors.New("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
	} {
		if tc.err == nil && tc.name != "nil" {
			t.Fatalf("%s: the setup produced no error", tc.name)
		}
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable(%v) = %v; want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
