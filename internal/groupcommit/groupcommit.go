// Package groupcommit holds what the group committers of frontier/disk and
// crawler/recrawl/disk share: a caller hands an operation to the store's
// committer goroutine, which commits whatever queued up in one
// transaction and sends each operation's result on its done channel.
package groupcommit

import "context"

// Wait waits for the result of an operation already handed to a
// committer: done receives it. committed is closed once the committer has
// exited; it drains its queue before it does, so an operation not done by
// then was handed in too late and gets closedErr. When ctx ends first,
// Wait returns ctx.Err() (the operation may still be committed: the
// caller gave up waiting).
func Wait(ctx context.Context, done <-chan error, committed <-chan struct{}, closedErr error) error {
	select {
	case err := <-done:
		return err
	case <-committed:
		select {
		case err := <-done:
			return err
		default:
			return closedErr
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}
