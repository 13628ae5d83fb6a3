package rotate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// syncDir fsyncs a directory so that creations, renames and removals in it
// survive a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("rotate: fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("rotate: fsync directory %s: %w", dir, err)
	}
	return nil
}

// renameNoReplace renames old to new, failing if new exists, so that a
// finished file can never replace another.
func renameNoReplace(oldpath, newpath string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("rotate: rename %s to %s: %w", oldpath, newpath, err)
	}
	return nil
}

// exists reports whether path exists (or cannot be checked, which counts as
// taken: a name is only used when known to be free).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !os.IsNotExist(err)
}

// hashFile returns the hex SHA-256 and length of a file, for files whose
// hash could not be computed while they were written.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("rotate: hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("rotate: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
