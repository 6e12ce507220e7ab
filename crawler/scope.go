package crawler

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"golang.org/x/net/idna"

	"github.com/trawlhq/trawl/frontier"
)

// domainRule is one AllowDomains or DenyDomains entry.
type domainRule struct {
	host       string // lower-case, punycode host name
	subdomains bool   // "*.host": host itself and every subdomain
}

// parseDomainRule parses "example.com" or "*.example.com".
func parseDomainRule(d string) (domainRule, error) {
	raw := d
	d = strings.TrimSpace(strings.ToLower(d))
	var r domainRule
	if rest, ok := strings.CutPrefix(d, "*."); ok {
		r.subdomains = true
		d = rest
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" || strings.ContainsAny(d, "/:*?#@ ") {
		return r, fmt.Errorf("%q is not a domain (want example.com or *.example.com)", raw)
	}
	if a, err := idna.Lookup.ToASCII(d); err == nil {
		d = a
	}
	r.host = d
	return r, nil
}

func (r domainRule) match(host string) bool {
	if host == r.host {
		return true
	}
	return r.subdomains && len(host) > len(r.host) &&
		strings.HasSuffix(host, r.host) && host[len(host)-len(r.host)-1] == '.'
}

// scopeVerdict says why a URL is out of scope; "" means in scope.
type scopeVerdict string

const (
	inScope       scopeVerdict = ""
	outScheme     scopeVerdict = "not http or https"
	outHost       scopeVerdict = "host not in scope"
	outDenied     scopeVerdict = "host denied"
	outTooLong    scopeVerdict = "URL too long"
	outIncluded   scopeVerdict = "matches no Include expression"
	outExcluded   scopeVerdict = "matches an Exclude expression"
	outNoHostName scopeVerdict = "no host"
)

// scope decides which URLs the crawl fetches. It is immutable once Run has
// added the seeds' hosts, so it needs no lock.
type scope struct {
	s       *settings
	hosts   map[string]struct{} // the seeds' host names
	tooLong *atomic.Int64       // URLs dropped for MaxURLLength; nil counts nothing
}

// hostName returns the lower-case host name of a normalized URL, without
// port or brackets.
func hostName(normalizedURL string) string {
	h := frontier.HostKey(normalizedURL)
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// hostAllowed checks a host name against the domain rules and the seeds'
// hosts.
func (sc *scope) hostAllowed(host string) scopeVerdict {
	if host == "" {
		return outNoHostName
	}
	for _, r := range sc.s.deny {
		if r.match(host) {
			return outDenied
		}
	}
	if sc.s.allowAll {
		return inScope
	}
	if _, ok := sc.hosts[host]; ok {
		return inScope
	}
	for _, r := range sc.s.allow {
		if r.match(host) {
			return inScope
		}
	}
	return outHost
}

// check decides whether a normalized URL is fetched. Seeds skip Include and
// Exclude (the user asked for them); every other URL passes every rule.
func (sc *scope) check(u string, seed bool) scopeVerdict {
	if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
		return outScheme
	}
	if sc.s.MaxURLLength > 0 && len(u) > sc.s.MaxURLLength {
		if sc.tooLong != nil {
			sc.tooLong.Add(1)
		}
		return outTooLong
	}
	if v := sc.hostAllowed(hostName(u)); v != inScope {
		return v
	}
	if seed {
		return inScope
	}
	if len(sc.s.Include) > 0 {
		ok := false
		for _, re := range sc.s.Include {
			if re.MatchString(u) {
				ok = true
				break
			}
		}
		if !ok {
			return outIncluded
		}
	}
	for _, re := range sc.s.Exclude {
		if re.MatchString(u) {
			return outExcluded
		}
	}
	return inScope
}

// addSeedHost adds a seed's host name to the default scope.
func (sc *scope) addSeedHost(u string) {
	h := hostName(u)
	if ip := net.ParseIP(h); ip != nil {
		h = ip.String()
	}
	sc.hosts[h] = struct{}{}
}
