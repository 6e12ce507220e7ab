package crawler

import (
	"testing"
	"time"
)

func TestTmpDelay(t *testing.T) {
	s := fanSite(t, 7, 0, "")
	t0 := time.Now()
	crawl(t, Config{Delay: 120 * time.Millisecond, Workers: 100, PerHost: 4}, s.URL+"/p/0")
	for _, h := range s.starts {
		t.Logf("%v %s", h.at.Sub(t0), h.path)
	}
}
