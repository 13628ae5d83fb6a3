package rotate

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrClosed is returned by calls on a Rotator after Close.
var ErrClosed = errors.New("rotate: rotator closed")

// WriteError reports a file that ended early because writing it failed
// (ENOSPC, EIO, a failing hook). The file was cut back to its last complete
// record, closed and renamed to its final name, so it stays readable.
type WriteError struct {
	Path    string // final path of the file
	Length  int64  // bytes kept
	Cut     int64  // bytes written to the file after those that did not reach the disk
	Removed bool   // no complete record was written, so the (rotated) file was removed
	Err     error  // the cause; errors.Is(err, syscall.ENOSPC) works through it
}

func (e *WriteError) Error() string {
	cause := e.Err
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		cause = errno // the file name is said once, here
	}
	if e.Removed {
		return fmt.Sprintf("rotate: write %s: %v (not one complete record written; file removed, %d bytes lost)", e.Path, cause, e.Cut)
	}
	if e.Cut > 0 {
		return fmt.Sprintf("rotate: write %s: %v (file closed at its last complete record, %d bytes; %d bytes written after it lost)", e.Path, cause, e.Length, e.Cut)
	}
	return fmt.Sprintf("rotate: write %s: %v (file closed at its last complete record, %d bytes)", e.Path, cause, e.Length)
}

func (e *WriteError) Unwrap() error { return e.Err }
