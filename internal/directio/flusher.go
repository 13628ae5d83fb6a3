//go:build linux

package directio

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// flusher is the state owned by the writer goroutine. Close reads safeLen
// after the goroutine has ended.
type flusher struct {
	direct   atomic.Bool // O_DIRECT is on (cleared if a write refuses it)
	safeLen  int64       // stream offset of the last record end known to be in the file
	hashed   int64       // stream offset up to which Options.Hash has been fed
	unsynced int64       // bytes written since the last fdatasync was asked for
}

// run is the writer goroutine: it writes queued buffers in order and returns
// them to the free list. After an error it only recycles buffers, so Write
// never waits forever.
func (w *Writer) run() {
	defer close(w.finished)
	for it := range w.queue {
		if it.sync {
			w.synced <- w.datasync()
			continue
		}
		b := it.buf
		if !w.failed.Load() {
			if err := w.writeBuffer(b); err != nil {
				w.setErr(fmt.Errorf("directio: write %s: %w", w.name, err))
			} else if w.syncWanted != nil {
				w.flusher.unsynced += int64(b.n)
				if b.partial || w.opts.SyncBytes > 0 && w.flusher.unsynced >= w.opts.SyncBytes {
					w.flusher.unsynced = 0
					select {
					case w.syncWanted <- struct{}{}:
					default: // one is already asked for and covers this write
					}
				}
			}
		}
		b.reset()
		w.free.put(b)
	}
}

// runSyncer is the syncer goroutine of SyncOnFlush: it fdatasyncs the file
// when asked. An fdatasync lasts as long as the device takes to commit (30
// to 480 ms on this machine's virtual disk); on a goroutine of its own it
// does not keep the writer goroutine from writing meanwhile where the device
// accepts writes during a commit. Where it does not (as here), SyncBytes
// keeps each stall short.
func (w *Writer) runSyncer() {
	defer close(w.syncerDone)
	for range w.syncWanted {
		if err := w.datasync(); err != nil {
			w.setErr(err)
		}
	}
}

// writeBuffer writes b's data. Buffers of a Writer made by Create start on
// block boundaries and are written at their offset; a partial last block goes
// out padded with zeros and the file is truncated back to the data's end.
func (w *Writer) writeBuffer(b *buffer) error {
	data := b.mem[:b.n]
	if !w.align {
		n, err := w.writeRetry(data, -1)
		w.advance(b, b.start+int64(n))
		return err
	}
	a := alignDown(b.n)
	padded := data
	if a < b.n {
		padded = b.mem[:a+blockSize]
		clear(padded[b.n:])
	}
	n, err := w.writeRetry(padded, w.base+b.start)
	if n > b.n {
		n = b.n
	}
	w.advance(b, b.start+int64(n))
	if err != nil {
		return err
	}
	if len(padded) != len(data) {
		if err := w.f.Truncate(w.base + b.start + int64(b.n)); err != nil {
			return unwrapPath(err)
		}
	}
	return nil
}

// writeRetry writes p at off (or sequentially when off < 0). On ENOSPC it asks
// Options.OnNoSpace for room and retries, as long as room is made: writers of
// other files may take it first. A filesystem that accepted O_DIRECT but
// refuses a direct write (EINVAL) gets ordinary writes from then on.
func (w *Writer) writeRetry(p []byte, off int64) (int, error) {
	fellBack := false
	done := 0
	for {
		n, err := w.writeOnce(p[done:], off, done)
		done += n
		if err == nil {
			w.stats.syscallBytes.Add(int64(done))
			return done, nil
		}
		switch {
		case errors.Is(err, unix.ENOSPC) && w.opts.OnNoSpace != nil && w.opts.OnNoSpace():
		case errors.Is(err, unix.EINVAL) && w.flusher.direct.Load() && !fellBack && done%blockSize == 0:
			fellBack = true
			if ferr := w.clearDirect(); ferr != nil {
				return done, err
			}
		default:
			w.stats.syscallBytes.Add(int64(done))
			return done, err
		}
	}
}

func (w *Writer) writeOnce(p []byte, off int64, done int) (int, error) {
	if off < 0 {
		n, err := w.f.Write(p)
		return n, unwrapPath(err)
	}
	// Not os.File.WriteAt: when a pwrite writes part of p and the next one
	// fails (ENOSPC), it returns the error without counting the part, and
	// the complete records in it would be cut off the file.
	fd := int(w.f.Fd())
	n := 0
	for n < len(p) {
		m, err := unix.Pwrite(fd, p[n:], off+int64(done+n))
		if err == unix.EINTR {
			continue
		}
		if m > 0 {
			n += m
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, nil
}

func (w *Writer) clearDirect() error {
	fd := w.f.Fd()
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(fd, unix.F_SETFL, flags&^unix.O_DIRECT)
	}
	if err == nil {
		w.flusher.direct.Store(false)
	}
	return err
}

// advance notes that the stream up to end is in the file: it feeds the hash,
// moves the last safe record end, and counts.
func (w *Writer) advance(b *buffer, end int64) {
	fl := &w.flusher
	if end > fl.hashed && fl.hashed >= b.start {
		if w.opts.Hash != nil {
			w.opts.Hash.Write(b.mem[fl.hashed-b.start : end-b.start])
		}
		w.stats.bytes.Add(end - fl.hashed)
		fl.hashed = end
	}
	for _, e := range b.ends {
		if e <= end && e > fl.safeLen {
			fl.safeLen = e
		}
	}
	if end == b.start+int64(b.n) {
		w.stats.buffers.Add(1)
	}
}

// datasync waits for the data of a regular file to be on stable storage.
func (w *Writer) datasync() error {
	if err := w.Err(); err != nil {
		return err
	}
	if !w.regular {
		return nil
	}
	rc, err := w.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("directio: fdatasync %s: %w", w.name, err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		serr = err
	}
	if serr != nil {
		return fmt.Errorf("directio: fdatasync %s: %w", w.name, serr)
	}
	w.stats.syncs.Add(1)
	return nil
}
