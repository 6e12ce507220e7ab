package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// signals turns SIGINT and SIGTERM into a graceful stop: the first one
// cancels the context watchSignals returned (no new requests; in-flight
// ones finish within the grace period; the output is flushed); a second
// one calls the last-words function and exits at once.
type signals struct {
	interrupted atomic.Bool
	cancel      context.CancelFunc
	done        chan struct{}
	wg          sync.WaitGroup
	sigs        chan os.Signal
	stop        sync.Once
}

// watchSignals starts watching. lastWords runs before a second signal
// exits the process (flush what can be flushed, say why).
func watchSignals(ctx context.Context, logger *slog.Logger, grace time.Duration, lastWords func()) (context.Context, *signals) {
	runCtx, cancel := context.WithCancel(ctx)
	s := &signals{cancel: cancel, done: make(chan struct{}), sigs: make(chan os.Signal, 2)}
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case sig := <-s.sigs:
			s.interrupted.Store(true)
			logger.Warn("stopping: letting in-flight requests finish (interrupt again to exit now)",
				"signal", sig.String(), "grace_period", grace.String())
			cancel()
		case <-s.done:
			return
		}
		select {
		case <-s.sigs:
			lastWords()
			exitNow(exitInterrupted)
		case <-s.done:
		}
	}()
	return runCtx, s
}

// Interrupted reports whether a signal stopped the run.
func (s *signals) Interrupted() bool { return s.interrupted.Load() }

// Stop stops watching and cancels the run's context; a signal after Stop
// has the default effect. It is idempotent.
func (s *signals) Stop() {
	s.stop.Do(func() {
		signal.Stop(s.sigs)
		close(s.done)
		s.wg.Wait()
		s.cancel()
	})
}
