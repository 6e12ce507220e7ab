//go:build !unix

package warc

import (
	"errors"
	"os"
)

var errLocked = errors.New("warc: file in use by another writer")

// lockFile does nothing where flock is not available.
func lockFile(*os.File) error { return nil }
