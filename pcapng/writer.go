package pcapng

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// DefaultBufferSize is the buffer size used when WriterOptions.BufferSize is 0.
const DefaultBufferSize = 256 << 10

var (
	// ErrClosed is returned by calls that add blocks after Close.
	ErrClosed = errors.New("pcapng: writer closed")
	// ErrTooLong is wrapped by errors for an option value (a string or a
	// comment) longer than 65535 bytes, the most an option can hold.
	ErrTooLong = errors.New("pcapng: too long")
	// ErrInvalid is wrapped by errors for arguments that cannot be encoded:
	// a nil pointer, an unknown interface id, a negative timestamp.
	ErrInvalid = errors.New("pcapng: invalid argument")

	// errNoDestination stops a Writer made with a nil io.Writer, or not made
	// by NewWriter at all.
	errNoDestination = fmt.Errorf("pcapng: Writer without an io.Writer (use NewWriter): %w", ErrInvalid)
)

// maxPreallocation caps the buffer NewWriter allocates up front; a larger
// BufferSize is reached by growing the buffer as blocks arrive.
const maxPreallocation = 16 << 20

// WriterOptions configures a Writer. A nil *WriterOptions means all defaults.
type WriterOptions struct {
	// Application is the SHB's shb_userappl option, the program that wrote
	// the capture, e.g. "nflogcap 0.1.0". Omitted when empty.
	Application string
	// OS is the SHB's shb_os option. When empty, the operating system name
	// and release of this host (uname -sr) are written, read once in
	// NewWriter.
	OS string
	// Hardware is the SHB's shb_hardware option. When empty, the machine
	// type of this host (uname -m) is written.
	Hardware string
	// Comment is an opt_comment on the SHB, shown by Wireshark as the
	// capture file comment. Omitted when empty.
	Comment string
	// BufferSize is how many bytes the Writer buffers before it hands them to
	// the io.Writer. A block that would take the buffer past BufferSize
	// flushes what is buffered first, so each automatic Write is at most
	// BufferSize bytes unless one block alone is larger. 0 (or less) means
	// DefaultBufferSize.
	BufferSize int
	// Clock gives the time at which statistics start (read in NewWriter)
	// and end (read in Close), written in each interface's ISB. nil means
	// time.Now. Tests inject a fixed clock to get reproducible output.
	Clock func() time.Time
}

// A Writer writes one pcapng section to an io.Writer: an SHB, then IDBs and
// EPBs in the order they are added, then an ISB per interface at Close.
//
// The first error from the io.Writer is sticky: the Writer stops and every
// later call returns it, Close included. Errors about an argument
// (ErrInvalid, ErrTooLong) reject that call only and leave the Writer usable.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	buf     []byte // whole blocks not yet handed to w
	limit   int    // BufferSize
	err     error  // sticky error from w
	closed  bool
	written int64
	clock   func() time.Time
	start   uint64 // statistics start, ns since the epoch
	ifaces  []interfaceStats
	lender  bufferLender // w, when it lends its own buffer (see reserve)
	lent    []byte       // blocks built in lender's buffer, not yet passed to Write
	inPlace bool         // the block being built follows lent
}

// bufferLender is a destination that lends the free part of its own buffer:
// bytes appended to AvailableBuffer's slice and passed straight to Write are
// taken without a copy (internal/directio.Writer does this). Blocks are then
// built in place, which spares copying every packet twice, and handed over
// in one Write per lentWriteSize bytes (or per Flush), which costs no system
// call, since such a destination buffers itself.
type bufferLender interface {
	AvailableBuffer() []byte
}

// lentWriteSize is how many bytes of blocks built in place the Writer keeps
// before it passes them to Write. Fewer Write calls cost less per packet;
// this many bytes between them still tell the destination, about as often
// as it can keep count, where whole blocks end (internal/directio cuts a
// file there when a write fails part way).
const lentWriteSize = 16 << 10

// NewWriter returns a Writer that writes to w and puts the Section Header
// Block into its buffer at once; nothing reaches w before the first flush.
//
// An option value longer than 65535 bytes cannot be encoded: the Writer then
// starts in the failed state and every call returns an error wrapping
// ErrTooLong.
func NewWriter(w io.Writer, opts *WriterOptions) *Writer {
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	if o.OS == "" || o.Hardware == "" {
		osName, machine := HostInfo()
		if o.OS == "" {
			o.OS = osName
		}
		if o.Hardware == "" {
			o.Hardware = machine
		}
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	wr := &Writer{
		w:     w,
		limit: o.BufferSize,
		clock: o.Clock,
		start: timestamp(o.Clock()),
	}
	if w == nil {
		wr.err = errNoDestination
		return wr
	}
	for _, f := range []struct{ name, value string }{
		{"Application", o.Application}, {"OS", o.OS}, {"Hardware", o.Hardware}, {"Comment", o.Comment},
	} {
		if len(f.value) > maxOptionLength {
			wr.err = fmt.Errorf("pcapng: WriterOptions.%s is %d bytes: %w", f.name, len(f.value), ErrTooLong)
			return wr
		}
	}
	s := section{comment: o.Comment, hardware: o.Hardware, os: o.OS, application: o.Application}
	wr.buf = make([]byte, 0, max(min(o.BufferSize, maxPreallocation), s.size()))
	b, _ := wr.reserve(s.size()) // the buffer is empty: no flush, no error
	s.put(b)
	// The SHB stays buffered (nothing reaches w before a flush); later
	// blocks may be built in w's buffer.
	wr.lender, _ = w.(bufferLender)
	return wr
}

// timestamp converts t to nanoseconds since the epoch; times before the
// epoch, which pcapng cannot represent, become 0.
func timestamp(t time.Time) uint64 {
	return uint64(max(t.UnixNano(), 0))
}

// reserve returns the next n bytes of the buffer for one block. If the block
// would take the buffer past its limit, what is buffered is flushed first,
// so automatic flushes fall between blocks.
//
// With a bufferLender destination the block is built in its buffer when it
// fits there (after flushing anything buffered, to keep the order), and
// commit writes it.
func (w *Writer) reserve(n int) ([]byte, error) {
	w.inPlace = false
	if w.lender != nil {
		if len(w.buf) > 0 {
			if err := w.Flush(); err != nil {
				return nil, err
			}
		}
		if l := len(w.lent); n <= cap(w.lent)-l {
			w.inPlace = true
			return w.lent[l : l+n], nil
		}
		if err := w.writeLent(); err != nil {
			return nil, err
		}
		if b := w.lender.AvailableBuffer(); cap(b) >= n {
			w.lent = b[:0]
			w.inPlace = true
			return b[:n], nil
		}
	}
	if len(w.buf) > 0 && len(w.buf)+n > w.limit {
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	w.buf = slices.Grow(w.buf, n)
	start := len(w.buf)
	w.buf = w.buf[:start+n]
	return w.buf[start:], nil
}

// commit ends the block reserve returned. Without a lender it stays
// buffered. With one, a block built in place joins lent, written once lent
// reaches lentWriteSize (no copy), and one built aside (it did not fit the
// lent space) is flushed at once.
func (w *Writer) commit(b []byte) error {
	if w.lender == nil {
		return nil
	}
	if !w.inPlace {
		return w.Flush()
	}
	w.inPlace = false
	w.lent = w.lent[:len(w.lent)+len(b)]
	if len(w.lent) >= lentWriteSize {
		return w.writeLent()
	}
	return nil
}

// writeLent passes the blocks built in place to Write. The lender's buffer
// may change with the Write, so the rest of it is asked for again.
func (w *Writer) writeLent() error {
	b := w.lent
	w.lent = nil
	if len(b) == 0 {
		return nil
	}
	n, err := w.w.Write(b)
	w.written += int64(max(n, 0))
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("pcapng: write: %w", err)
	}
	return w.err
}

// usable returns the error a call that adds a block must return, if any.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.w == nil {
		return errNoDestination
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

// AddDrops counts n packets lost on interface iface that no written packet
// accounts for (for example a loss found when the capture ends). They appear
// in the interface's ISB at Close. Unknown interface ids and calls after
// Close are ignored: there is no ISB left to show them.
func (w *Writer) AddDrops(iface int, n uint64) {
	if w.closed || iface < 0 || iface >= len(w.ifaces) {
		return
	}
	st := &w.ifaces[iface]
	st.drops = addSaturating(st.drops, n)
}

// Flush hands everything buffered to the io.Writer in one Write call. It
// does nothing when the buffer is empty. After a failed or short Write the
// destination may end in part of a block; ValidPrefix finds the whole ones.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.w == nil {
		return errNoDestination
	}
	// Blocks are built in place only while nothing is buffered aside, so
	// lent comes first.
	if err := w.writeLent(); err != nil {
		return err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	w.written += int64(max(n, 0))
	if err == nil && n != len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("pcapng: write: %w", err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}

// Close ends the section: it adds one Interface Statistics Block per
// interface and flushes. It does not close the io.Writer. Calls that add
// blocks afterwards return ErrClosed; Close itself may be called again and
// returns the Writer's error, if any.
//
// Each ISB covers the whole section, from the Clock's time in NewWriter
// (isb_starttime; interfaces added later were fed by the same capture) to
// its time now (isb_endtime, also the block's timestamp). It counts, for
// its interface, isb_usrdeliv = packets written, isb_ifdrop = drops (every
// Packet.DropCount plus AddDrops) and isb_ifrecv = the two together, each
// sticking at 2^64-1 rather than wrapping.
func (w *Writer) Close() error {
	if w.closed || w.err != nil {
		w.closed = true
		return w.err
	}
	if w.w == nil {
		return errNoDestination
	}
	w.closed = true
	end := max(timestamp(w.clock()), w.start)
	for i := range w.ifaces {
		b, err := w.reserve(isbFixed + isbOptionsSize)
		if err != nil {
			return err
		}
		putISB(b, i, &w.ifaces[i], w.start, end)
		if err := w.commit(b); err != nil {
			return err
		}
	}
	return w.Flush()
}

// Err returns the error that stopped the Writer (a failed Write, or options
// NewWriter could not encode), or nil.
func (w *Writer) Err() error { return w.err }

// Buffered returns the number of bytes buffered and not yet written.
func (w *Writer) Buffered() int { return len(w.buf) + len(w.lent) }

// Written returns the number of bytes handed to the io.Writer so far.
func (w *Writer) Written() int64 { return w.written }

// Interfaces returns the number of interfaces added so far.
func (w *Writer) Interfaces() int { return len(w.ifaces) }
