//go:build unix

package warc

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errLocked means another Writer holds the file.
var errLocked = errors.New("warc: file in use by another writer")

// lockFile takes an exclusive advisory lock on f without waiting; it is
// released when f is closed.
func lockFile(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
