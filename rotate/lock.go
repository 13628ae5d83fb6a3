package rotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockName is the file whose flock marks a directory as owned by a capture.
// It is left in place: removing it would race with the next owner.
const lockName = ".nflogcap.lock"

// lockDir takes the directory's lock without waiting. The lock goes with the
// returned file (and with the process, on a crash).
func lockDir(dir string, mode os.FileMode) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, mode)
	if err != nil {
		return nil, fmt.Errorf("rotate: lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("rotate: lock %s: another capture is writing to %s: %w", path, dir, err)
		}
		return nil, fmt.Errorf("rotate: lock %s: %w", path, err)
	}
	return f, nil
}
