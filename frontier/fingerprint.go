package frontier

import (
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Fingerprint is the 64-bit key the frontier deduplicates on. It is computed
// from a normalized URL (see Normalizer) and is stable across processes,
// machines and versions, so persistent backends may store it.
func Fingerprint(normalizedURL string) uint64 {
	return xxhash.Sum64String(normalizedURL)
}

// HostKey returns the scheduling key of a normalized URL: its host and, when
// present, port ("example.com", "127.0.0.1:8080"). Politeness limits apply
// per host key. It returns "" for a URL without an authority.
func HostKey(normalizedURL string) string {
	i := strings.Index(normalizedURL, "://")
	if i < 0 {
		return ""
	}
	rest := normalizedURL[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	if k := strings.LastIndexByte(rest, '@'); k >= 0 {
		rest = rest[k+1:]
	}
	return rest
}
