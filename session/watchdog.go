package session

import (
	"sync"
	"time"
)

// watchdog calls fire when it stays armed for longer than d. Arm and disarm are
// cheap (no allocation after the first arm) so it can surround every body read.
// A nil *watchdog does nothing.
type watchdog struct {
	d    time.Duration
	fire func()

	mu       sync.Mutex
	t        *time.Timer
	armed    bool
	fired    bool
	deadline time.Time
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	return &watchdog{d: d, fire: fire}
}

func (w *watchdog) arm() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return
	}
	w.armed = true
	w.deadline = time.Now().Add(w.d)
	if w.t == nil {
		w.t = time.AfterFunc(w.d, w.check)
	} else {
		w.t.Reset(w.d)
	}
}

func (w *watchdog) disarm() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.armed = false
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.armed = false
	if w.t != nil {
		w.t.Stop()
	}
	w.mu.Unlock()
}

func (w *watchdog) check() {
	w.mu.Lock()
	if !w.armed || w.fired {
		w.mu.Unlock()
		return
	}
	if left := time.Until(w.deadline); left > 0 {
		w.t.Reset(left)
		w.mu.Unlock()
		return
	}
	w.fired = true
	w.mu.Unlock()
	w.fire()
}
