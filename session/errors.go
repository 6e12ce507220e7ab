package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrClosed is returned (wrapped in an *Error) by requests made after Close.
var ErrClosed = errors.New("session: closed")

// ErrTooManyRedirects is returned (wrapped in an *Error with Op "redirect") when a
// redirect chain is longer than Config.MaxRedirects.
var ErrTooManyRedirects = errors.New("session: too many redirects")

// Error is the error returned by every failed request: it names the operation, the
// URL and the cause. Use errors.As to get it, errors.Is / errors.As on it to reach
// the cause (ErrClosed, ErrTooManyRedirects, *StatusError, context errors, net errors).
//
// Op is one of:
//
//	"parse"    the URL is invalid or its scheme unsupported
//	"send"     the request could not be sent or its response head received
//	           (queueing, DNS, connect, TLS, write, response headers)
//	"read"     the response body could not be read or decoded
//	"redirect" a redirect could not be followed (bad Location, too many, refused by a hook)
//	"status"   RaiseForStatus is on and the status is >= 400 (the cause is a *StatusError)
//	"closed"   the session is closed (the cause is ErrClosed)
type Error struct {
	Op  string
	URL string
	Err error
}

func (e *Error) Error() string {
	return "session: " + e.Op + " " + e.URL + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the request failed because a timeout (any of Timeouts, or
// the caller's context deadline) expired.
func (e *Error) Timeout() bool {
	var t interface{ Timeout() bool }
	if errors.As(e.Err, &t) && t.Timeout() {
		return true
	}
	return errors.Is(e.Err, context.DeadlineExceeded)
}

// StatusError is the cause of the *Error returned when RaiseForStatus is on and the
// response status is >= 400. Response is the complete response (its body read with
// the usual cap).
type StatusError struct {
	StatusCode int
	Response   *Response
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("session: status %d", e.StatusCode)
}

// TimeoutError is the cause of a request that ran out of one of its Timeouts.
// Which names the timeout: "total", "connect", "sock connect" or "sock read".
type TimeoutError struct {
	Which string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("session: %s timeout (%s) exceeded", e.Which, e.After)
}

// Timeout reports true.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true; a timed-out request may succeed when retried.
func (e *TimeoutError) Temporary() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) hold for timeouts.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

var _ net.Error = (*TimeoutError)(nil)
