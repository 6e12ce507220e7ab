package robots_test

import (
	"fmt"
	"testing"

	"github.com/trawlhq/trawl/crawler/robots"
	"github.com/trawlhq/trawl/internal/robotstest"
)

// TestGoogleSuite runs every IsUserAgentAllowed expectation of Google's
// robots_test.cc against the matcher. Where trawl follows RFC 9309 against
// Google's implementation, the case says why (robotstest.Case.RFC) and the
// RFC's answer is expected.
func TestGoogleSuite(t *testing.T) {
	if n := len(robotstest.Google); n != 145 {
		t.Fatalf("%d cases, want the 145 expectations of robots_test.cc", n)
	}
	differ := 0
	for i, c := range robotstest.Google {
		if c.RFC != "" {
			differ++
		}
		t.Run(fmt.Sprintf("%03d_%s", i, c.Test), func(t *testing.T) {
			got := robots.Parse([]byte(c.Body)).Group(c.Agent).Allowed(robotstest.PathOf(c.URL))
			if got != c.Want() {
				why := ""
				if c.RFC != "" {
					why = " (Google answers otherwise: " + c.RFC + ")"
				}
				t.Errorf("agent %q, URL %.120q: allowed %v, want %v%s\nrobots.txt:\n%.500s", c.Agent, c.URL, got, c.Want(), why, c.Body)
			}
		})
	}
	t.Logf("%d cases, %d where RFC 9309 and Google differ", len(robotstest.Google), differ)
}
