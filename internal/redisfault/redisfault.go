// Package redisfault tells the errors of a Redis that is (perhaps briefly)
// unreachable or not serving from those of a request Redis refused, for the
// Redis-backed stores (frontier/redis, crawler/recrawl/redis), which retry
// the first kind with backoff and fail on the second.
package redisfault

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	goredis "github.com/redis/go-redis/v9"
)

// Retryable reports whether err means Redis is (perhaps briefly)
// unreachable, restarting, loading its data or failing over, rather than
// that the request is wrong: network errors, a closed or reset
// connection, a pool timeout, and the LOADING, BUSY, TRYAGAIN,
// CLUSTERDOWN, MASTERDOWN, READONLY and NOREPLICAS replies.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, goredis.ErrPoolTimeout) {
		return true
	}
	s := err.Error()
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "NOREPLICAS"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	for _, p := range []string{"connection refused", "connection reset", "broken pipe", "i/o timeout", "use of closed network connection"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
