package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrStopped is returned by Start when its context ended before the capture
// began, while it waited for the reader of a FIFO given to -w: nothing was
// bound, captured or lost.
var ErrStopped = errors.New("stopped before the capture began")

// fifoPoll is how often Start tries again to open a FIFO that has no reader
// yet. A reader that opens the FIFO waits at most this long for nflogcap.
const fifoPoll = 50 * time.Millisecond

// openFIFOWriter opens a FIFO for writing once a reader has it open, and
// gives up when ctx ends (SIGINT, SIGTERM). A blocking open(2) would wait
// for the reader however long it takes and could not be interrupted, so the
// open is non-blocking (ENXIO: no reader yet) and retried. The file stays
// non-blocking, so os.NewFile puts it in Go's poller: writes still wait for
// the reader, but a write deadline can end the wait (Capture.Stop).
func openFIFOWriter(ctx context.Context, path string) (*os.File, error) {
	var t *time.Timer
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.ENXIO):
			return nil, fmt.Errorf("open FIFO %s: %w", path, err)
		}
		if t == nil {
			t = time.NewTimer(fifoPoll)
			defer t.Stop()
		} else {
			t.Reset(fifoPoll)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: no reader opened FIFO %s; nothing was captured", ErrStopped, path)
		case <-t.C:
		}
	}
}
