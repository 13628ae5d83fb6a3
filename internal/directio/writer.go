//go:build linux

package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by calls on a Writer after Close.
var ErrClosed = errors.New("directio: writer closed")

// Writer is an asynchronous writer with a bounded queue. Write, Flush, Sync
// and Close must be called from one goroutine at a time; Err, Size, Name and
// Stats may be called from any.
type Writer struct {
	f       *os.File
	name    string
	opts    Options
	align   bool  // keep buffers on block boundaries (opened for O_DIRECT)
	regular bool  // a regular file: can be truncated and synced
	base    int64 // file offset of stream offset 0

	// Owned by the caller's goroutine.
	cur       *buffer
	nextStart int64  // stream offset of the next buffer's mem[0]
	carry     []byte // unaligned tail of the last flushed buffer, len <= blockSize
	size      int64  // bytes accepted by Write
	closed    bool
	closeErr  error

	free     *freeList
	all      []*buffer // every buffer, to release (or return to pool) at Close
	pool     *Pool     // nil: buffers are the Writer's own
	queue    chan item
	synced   chan error
	finished chan struct{}

	// syncWanted asks the syncer goroutine for an fdatasync (SyncOnFlush);
	// requests made while one runs coalesce into one more.
	syncWanted chan struct{}
	syncerDone chan struct{}

	failed atomic.Bool
	errMu  sync.Mutex
	err    error

	flusher flusher // state of the writer goroutine
	stats   counters
}

// item is a queued buffer, or a request to sync once what precedes it is written.
type item struct {
	buf  *buffer
	sync bool
}

// Create creates the file at path, which must not exist (O_EXCL: a Writer never
// overwrites), and returns a Writer for it. With opts.Direct it asks for
// O_DIRECT and keeps ordinary writes when the filesystem refuses it.
func Create(path string, perm os.FileMode, opts *Options) (*Writer, error) {
	o := opts.withDefaults()
	if o.BufferSize%blockSize != 0 {
		return nil, fmt.Errorf("directio: create %s: buffer size %d is not a multiple of %d", path, o.BufferSize, blockSize)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, fmt.Errorf("directio: create %s: %w", path, unwrapPath(err))
	}
	direct := false
	if o.Direct {
		// O_DIRECT is set after creation rather than passed to open: open
		// creates the file before it checks O_DIRECT support, so a refused
		// open would leave a file that O_EXCL then refuses to reopen.
		direct, err = setDirect(f)
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("directio: create %s: %w", path, err)
		}
	}
	// Buffers stay block-aligned even without O_DIRECT: it costs a rewrite of
	// at most one block per Flush and lets a write-time fallback keep going.
	return newWriter(f, path, o, writerMode{regular: true, align: true, direct: direct}), nil
}

// setDirect turns on O_DIRECT and reports whether the filesystem took it.
func setDirect(f *os.File) (bool, error) {
	fd := f.Fd() // a regular file is never in the poller, so this changes nothing
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return false, err
	}
	if _, err := unix.FcntlInt(fd, unix.F_SETFL, flags|unix.O_DIRECT); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// NewWriter returns a Writer for an open file, pipe or terminal, written at its
// current offset with ordinary writes (never O_DIRECT). Close closes f. When f
// is a pipe whose reader has gone, writes fail with an error wrapping
// syscall.EPIPE; for standard output the Go runtime kills the process with
// SIGPIPE instead unless the program has called signal.Notify for it.
func NewWriter(f *os.File, opts *Options) *Writer {
	o := opts.withDefaults()
	if o.BufferSize%blockSize != 0 {
		o.BufferSize = (o.BufferSize + blockSize - 1) &^ (blockSize - 1)
	}
	regular := false
	var base int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if off, err := f.Seek(0, io.SeekCurrent); err == nil {
			regular, base = true, off
		}
	}
	return newWriter(f, f.Name(), o, writerMode{regular: regular, base: base})
}

// writerMode is how a Writer treats its file.
type writerMode struct {
	regular, align, direct bool
	base                   int64
}

func newWriter(f *os.File, name string, o Options, m writerMode) *Writer {
	w := &Writer{
		f:        f,
		name:     name,
		opts:     o,
		regular:  m.regular,
		align:    m.align,
		base:     m.base,
		carry:    make([]byte, 0, blockSize),
		free:     newFreeList(o.Buffers),
		queue:    make(chan item, o.Buffers+1),
		synced:   make(chan error, 1),
		finished: make(chan struct{}),
	}
	if o.SyncOnFlush && m.regular {
		w.syncWanted = make(chan struct{}, 1)
		w.syncerDone = make(chan struct{})
		go w.runSyncer()
	}
	if o.Pool != nil && o.Pool.size == o.BufferSize {
		w.pool = o.Pool
	}
	for i := 0; i < o.Buffers; i++ {
		var b *buffer
		if w.pool != nil {
			b = w.pool.get() // the most recently used first
		} else {
			b = newBuffer(o.BufferSize)
		}
		w.all = append(w.all, b)
	}
	for i := len(w.all) - 1; i >= 0; i-- {
		w.free.put(w.all[i]) // the first one taken last, so on top
	}
	w.flusher.direct.Store(m.direct)
	go w.run()
	return w
}

// Name returns the file name the Writer was made with.
func (w *Writer) Name() string { return w.name }

// Size returns the number of bytes accepted by Write.
func (w *Writer) Size() int64 { return w.size }

// Err returns the first error of the writer goroutine, which names the file.
// Once set it stays, and every later call returns it.
func (w *Writer) Err() error {
	if !w.failed.Load() {
		return nil
	}
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
	w.failed.Store(true)
}

// Write copies p into the current buffer, handing full buffers to the writer
// goroutine. p must hold whole records. It blocks only when every buffer is
// queued. It returns the writer goroutine's error, if any, without copying.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.failed.Load() {
		return 0, w.Err()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c := w.cur; c != nil && c.n < len(c.mem) && len(p) <= len(c.mem)-c.n && &p[0] == &c.mem[c.n] {
		// Built in place in the slice AvailableBuffer lent: no copy.
		c.n += len(p)
		w.size += int64(len(p))
		c.addEnd(w.size)
		if c.n == len(c.mem) {
			w.handOff(false)
		}
		return len(p), nil
	}
	written := 0
	for {
		if w.cur == nil {
			w.takeBuffer()
		}
		c := copy(w.cur.mem[w.cur.n:], p[written:])
		w.cur.n += c
		written += c
		w.size += int64(c)
		if written == len(p) {
			w.cur.addEnd(w.size)
		}
		if w.cur.n == len(w.cur.mem) {
			w.handOff(false)
		}
		if written == len(p) {
			return written, nil
		}
		if w.failed.Load() {
			return written, w.Err()
		}
	}
}

// AvailableBuffer returns an empty slice over the free part of the current
// buffer (taking a free buffer first if there is none, which may block like
// Write). Bytes appended to it and passed to Write at once, as one record,
// are not copied again. Its capacity may be small near the end of a buffer;
// a caller needing more writes the usual way.
func (w *Writer) AvailableBuffer() []byte {
	if w.closed || w.failed.Load() {
		return nil
	}
	if w.cur == nil {
		w.takeBuffer()
	}
	return w.cur.mem[w.cur.n:w.cur.n:len(w.cur.mem)]
}

// takeBuffer makes a free buffer current, waiting for one if all are queued.
func (w *Writer) takeBuffer() {
	b := w.free.tryTake()
	if b == nil {
		t0 := time.Now()
		b = w.free.take()
		w.stats.blocked.Add(int64(time.Since(t0)))
		w.stats.blocks.Add(1)
	}
	b.start = w.nextStart
	b.n = copy(b.mem, w.carry)
	w.carry = w.carry[:0]
	w.cur = b
}

// handOff queues the current buffer. When a partly filled buffer leaves and
// buffers stay block-aligned, its last unaligned block is kept in carry so the
// next buffer starts on a block boundary and rewrites that block completed.
func (w *Writer) handOff(partial bool) {
	b := w.cur
	w.cur = nil
	b.partial = partial
	w.nextStart = b.start + int64(b.n)
	if w.align {
		a := alignDown(b.n)
		w.carry = append(w.carry[:0], b.mem[a:b.n]...)
		w.nextStart = b.start + int64(a)
	}
	w.queue <- item{buf: b}
	w.stats.noteDepth(len(w.queue))
}

// Flush hands the partly filled buffer to the writer goroutine without waiting
// for it to be written. Call it per batch for live pipes and about once a
// second for files.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if w.failed.Load() {
		return w.Err()
	}
	if w.cur != nil {
		w.handOff(true)
	}
	return nil
}

// Sync flushes, waits until everything queued is written, and fdatasyncs a
// regular file. The file then ends exactly where the data ends.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	w.queue <- item{sync: true}
	return <-w.synced
}

// Close writes everything, cuts the file back to the last complete record if
// a write failed, fsyncs a regular file and closes it. It returns the first
// error. Calling it again returns the same result.
func (w *Writer) Close() error {
	if w.closed {
		return w.closeErr
	}
	w.closed = true
	if !w.failed.Load() && w.cur != nil && w.cur.n > 0 {
		w.handOff(true)
	}
	close(w.queue)
	<-w.finished
	if w.syncWanted != nil {
		close(w.syncWanted)
		<-w.syncerDone
	}
	// The writer goroutine is done with every buffer, and no caller may use
	// one after Close.
	w.cur = nil
	for _, b := range w.all {
		if w.pool != nil {
			w.pool.put(b)
		} else {
			b.release()
		}
	}
	err := w.Err()
	if w.regular {
		if err != nil {
			if terr := w.f.Truncate(w.base + w.flusher.safeLen); terr != nil {
				err = errors.Join(err, fmt.Errorf("directio: truncate %s to last complete record: %w", w.name, unwrapPath(terr)))
			}
		}
		if serr := w.f.Sync(); serr != nil && err == nil {
			err = fmt.Errorf("directio: fsync %s: %w", w.name, unwrapPath(serr))
		}
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("directio: close %s: %w", w.name, unwrapPath(cerr))
	}
	w.closeErr = err
	return err
}

// Length returns, after Close, the length of the written stream as the file
// holds it: Size, or less when an error cut the file back.
func (w *Writer) Length() int64 {
	if w.failed.Load() {
		return w.flusher.safeLen
	}
	return w.size
}

// unwrapPath strips an *os.PathError so that messages name the file once.
func unwrapPath(err error) error {
	if err == nil {
		return nil // errors.As would allocate even for nil, on every write
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Backlog returns how many buffers are queued for the writer goroutine: how
// far a slow reader or disk lags behind. A caller that must never block (the
// live view) skips data while it is high.
func (w *Writer) Backlog() int { return len(w.queue) }
