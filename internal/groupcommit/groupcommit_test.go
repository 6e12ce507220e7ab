package groupcommit

import (
	"context"
	"errors"
	"testing"
)

func TestWait(t *testing.T) {
	errClosed := errors.New("closed")
	errOp := errors.New("op failed")
	ctx := context.Background()

	done := make(chan error, 1)
	done <- errOp
	if err := Wait(ctx, done, make(chan struct{}), errClosed); err != errOp {
		t.Errorf("done: %v, want %v", err, errOp)
	}

	// The committer exited after committing the operation: its result,
	// not closedErr.
	committed := make(chan struct{})
	close(committed)
	for range 100 { // both cases ready: the select must not pick closedErr
		d := make(chan error, 1)
		d <- nil
		if err := Wait(ctx, d, committed, errClosed); err != nil {
			t.Fatalf("committed and done: %v, want nil", err)
		}
	}
	if err := Wait(ctx, make(chan error, 1), committed, errClosed); err != errClosed {
		t.Errorf("committer gone, op never done: %v, want %v", err, errClosed)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Wait(cctx, make(chan error, 1), make(chan struct{}), errClosed); !errors.Is(err, context.Canceled) {
		t.Errorf("ctx ended: %v, want context.Canceled", err)
	}
}
