package session

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

// Trace holds hooks called during the life of every request a session sends: the
// counterpart of aiohttp's TraceConfig. Any hook may be nil. Hooks are called
// synchronously from the goroutine doing the work, possibly from many goroutines at
// once, so they must be safe for concurrent use and fast.
//
// For one request the order is:
//
//	RequestStart
//	  per hop: [ConnectionQueuedStart ConnectionQueuedEnd]
//	           (ConnectionCreateStart [DNSResolveStart DNSResolveEnd] ConnectionCreateEnd | ConnectionReused)
//	           ResponseHeaders when a response head arrived
//	           then Redirect when the hop is a followed redirect
//	RequestEnd or RequestException
//
// Connection hooks fire in the context of the request that asked for the connection.
type Trace struct {
	// RequestStart is called once, before anything is sent.
	RequestStart func(TraceRequest)
	// RequestEnd is called once when the response, body included, has been read.
	RequestEnd func(TraceRequestEnd)
	// RequestException is called once, instead of RequestEnd, when the request fails.
	RequestException func(TraceRequestException)
	// Redirect is called for each redirect hop that is followed.
	Redirect func(TraceRedirect)
	// ResponseHeaders is called once per hop (redirects included) when the
	// response head has been read, before its body is.
	ResponseHeaders func(TraceResponse)
	// ConnectionQueuedStart is called when a request must wait for a free slot
	// because the total or the per-host connection limit is reached.
	ConnectionQueuedStart func(TraceHost)
	// ConnectionQueuedEnd is called when the waiting request got its slot (or gave up).
	ConnectionQueuedEnd func(TraceHost)
	// ConnectionCreateStart is called before a new connection is dialed.
	ConnectionCreateStart func(TraceHost)
	// ConnectionCreateEnd is called when the TCP connection is established or failed
	// (Err set). A TLS handshake follows for https.
	ConnectionCreateEnd func(TraceConnCreated)
	// ConnectionReused is called when a request is sent on a pooled keep-alive connection.
	ConnectionReused func(TraceHost)
	// DNSResolveStart and DNSResolveEnd surround a host name lookup. They are not
	// called for IP literals nor when the name is answered from the DNS cache.
	DNSResolveStart func(TraceHost)
	DNSResolveEnd   func(TraceDNS)
	// DNSCacheHit is called when a host name is answered from the DNS cache.
	DNSCacheHit func(TraceHost)
}

// TraceRequest describes a request as it starts.
type TraceRequest struct {
	Method string
	URL    *url.URL
	Header http.Header
}

// TraceRequestEnd describes a request that completed.
type TraceRequestEnd struct {
	Method     string
	URL        *url.URL // the final URL
	StatusCode int
	Elapsed    time.Duration
}

// TraceRequestException describes a request that failed.
type TraceRequestException struct {
	Method string
	URL    *url.URL
	Err    error
}

// TraceResponse describes a response head as it arrives.
type TraceResponse struct {
	Method     string
	URL        *url.URL // the URL of this hop
	StatusCode int
	// Elapsed is the time from the start of the hop (before it waited for a
	// connection slot) to the response head: the time to headers.
	Elapsed time.Duration
}

// TraceRedirect describes a followed redirect.
type TraceRedirect struct {
	From       *url.URL
	To         *url.URL
	StatusCode int
}

// TraceHost names what a connection event is about: the origin
// ("scheme://host:port") for queue and reuse events, the address ("host:port") for
// dial events, the host name for DNS events.
type TraceHost struct {
	Host string
}

// TraceConnCreated describes the outcome of a dial.
type TraceConnCreated struct {
	Host       string
	RemoteAddr net.Addr // nil when Err is set
	Err        error
}

// TraceDNS describes the outcome of a host name lookup.
type TraceDNS struct {
	Host  string
	Addrs []net.IPAddr
	Err   error
}

// traces fans one event out to every configured Trace.
type traces []*Trace

// wantRequestStart reports whether some Trace has a RequestStart hook.
func (ts traces) wantRequestStart() bool {
	for _, t := range ts {
		if t.RequestStart != nil {
			return true
		}
	}
	return false
}

func (ts traces) requestStart(e TraceRequest) {
	for _, t := range ts {
		if t.RequestStart != nil {
			t.RequestStart(e)
		}
	}
}

func (ts traces) requestEnd(e TraceRequestEnd) {
	for _, t := range ts {
		if t.RequestEnd != nil {
			t.RequestEnd(e)
		}
	}
}

func (ts traces) requestException(e TraceRequestException) {
	for _, t := range ts {
		if t.RequestException != nil {
			t.RequestException(e)
		}
	}
}

func (ts traces) responseHeaders(e TraceResponse) {
	for _, t := range ts {
		if t.ResponseHeaders != nil {
			t.ResponseHeaders(e)
		}
	}
}

func (ts traces) redirect(e TraceRedirect) {
	for _, t := range ts {
		if t.Redirect != nil {
			t.Redirect(e)
		}
	}
}

func (ts traces) queuedStart(host string) {
	for _, t := range ts {
		if t.ConnectionQueuedStart != nil {
			t.ConnectionQueuedStart(TraceHost{host})
		}
	}
}

func (ts traces) queuedEnd(host string) {
	for _, t := range ts {
		if t.ConnectionQueuedEnd != nil {
			t.ConnectionQueuedEnd(TraceHost{host})
		}
	}
}

func (ts traces) createStart(host string) {
	for _, t := range ts {
		if t.ConnectionCreateStart != nil {
			t.ConnectionCreateStart(TraceHost{host})
		}
	}
}

func (ts traces) createEnd(e TraceConnCreated) {
	for _, t := range ts {
		if t.ConnectionCreateEnd != nil {
			t.ConnectionCreateEnd(e)
		}
	}
}

func (ts traces) reused(host string) {
	for _, t := range ts {
		if t.ConnectionReused != nil {
			t.ConnectionReused(TraceHost{host})
		}
	}
}

func (ts traces) dnsStart(host string) {
	for _, t := range ts {
		if t.DNSResolveStart != nil {
			t.DNSResolveStart(TraceHost{host})
		}
	}
}

func (ts traces) dnsEnd(e TraceDNS) {
	for _, t := range ts {
		if t.DNSResolveEnd != nil {
			t.DNSResolveEnd(e)
		}
	}
}

func (ts traces) dnsCacheHit(host string) {
	for _, t := range ts {
		if t.DNSCacheHit != nil {
			t.DNSCacheHit(TraceHost{host})
		}
	}
}
