package capture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A FIFO without a reader holds openFIFOWriter only until its context ends;
// with a reader it opens, blocking as the stream writer expects.
func TestOpenFIFOWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		f, err := openFIFOWriter(ctx, path)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("returned %v without a reader and before the context ended", err)
	case <-time.After(3 * fifoPoll):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("got %v, want ErrStopped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for a reader after the context ended")
	}

	r, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := openFIFOWriter(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The FIFO is in Go's poller, so Capture.Stop can bound a write to a
	// reader that takes nothing.
	if err := f.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("FIFO takes no write deadline: %v", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}

	if _, err := openFIFOWriter(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil || errors.Is(err, ErrStopped) {
		t.Errorf("missing FIFO: got %v, want the open error", err)
	}
}
