package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/nflogcap/nflogcap/internal/directio"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// errReaderGone ends a capture whose only output is a pipe or terminal whose
// reader exited: a clean stop, not a failure.
var errReaderGone = errors.New("the reader of the output went away")

// output is one destination of every batch. The pipeline calls it with its
// lock held, from one goroutine at a time.
type output interface {
	writeBatch(evs []nflog.Event) error // encode, flush, rotate when due
	tick() error                        // periodic: durability flush, time rotation
	nextTick() time.Time                // when tick next has work; zero: never
	rotateNow() error                   // SIGHUP
	close() error
}

// fileOutput writes pcapng files through a Rotator; it is the Rotator's
// Hooks, so every file gets its own section, interfaces and statistics.
type fileOutput struct {
	rot        *rotate.Rotator
	cfg        *encoderConfig
	app        string
	pw         *pcapng.Writer
	enc        *encoder
	overflowed uint64
	// accepted is how many packets of the last batch the encoder took:
	// all of them, unless a write error stopped it. Those packets count as
	// captured even when the error then cut them from the file (the
	// Rotator counts those).
	accepted int
}

func openFileOutput(rc rotate.Config, cfg *encoderConfig, app string) (*fileOutput, error) {
	f := &fileOutput{cfg: cfg, app: app}
	rc.Hooks = f
	rot, err := rotate.Open(rc)
	if err != nil {
		return nil, err
	}
	f.rot = rot
	return f, nil
}

// Open starts a file: a new section; interfaces are described as their
// first packets arrive.
func (f *fileOutput) Open(w io.Writer, _ rotate.FileInfo) error {
	f.pw = pcapng.NewWriter(w, &pcapng.WriterOptions{Application: f.app})
	f.enc = newEncoder(f.cfg, f.pw)
	return f.pw.Flush()
}

// Close ends a file with one statistics block per interface and reports
// what the manifest records.
func (f *fileOutput) Close(io.Writer) (rotate.Summary, error) {
	err := f.pw.Close()
	s := f.enc.sum
	f.overflowed += s.overflowed
	f.enc.sum.overflowed = 0 // counted in f.overflowed now
	sum := rotate.Summary{Packets: s.packets, Lost: s.lost}
	if s.packets > 0 {
		sum.First, sum.Last = time.Unix(0, s.first), time.Unix(0, s.last)
	}
	if s.hasSeq && !s.multiGroup {
		sum.SeqFirst, sum.SeqLast, sum.HasSeq = uint64(s.seqFirst), uint64(s.seqLast), true
	}
	return sum, err
}

func (f *fileOutput) writeBatch(evs []nflog.Event) error {
	f.accepted = 0
	for i := range evs {
		if err := f.enc.write(&evs[i]); err != nil {
			return f.fileErr(err)
		}
		f.accepted++
	}
	if err := f.pw.Flush(); err != nil {
		return f.fileErr(err)
	}
	_, err := f.rot.RotateIfDue()
	return err
}

// fileErr reports an error of the pcapng writer, which writes straight to
// the current file's writer: when that writer failed (disk full), the
// Rotator closes the file at its last complete record and returns the
// *rotate.WriteError that names it by its final name.
func (f *fileOutput) fileErr(err error) error {
	if rerr := f.rot.Err(); rerr != nil {
		return rerr
	}
	return err
}

func (f *fileOutput) tick() error {
	if err := f.pw.Flush(); err != nil {
		return f.fileErr(err)
	}
	if err := f.rot.Tick(); err != nil {
		return err
	}
	_, err := f.rot.RotateIfDue()
	return err
}

func (f *fileOutput) nextTick() time.Time { return f.rot.NextDue() }
func (f *fileOutput) rotateNow() error    { return f.rot.Rotate() }
func (f *fileOutput) close() error        { return f.rot.Close() }

// streamOutput writes one pcapng stream to a pipe (stdout or a FIFO). Every
// batch is handed to the pipe at once; a writer goroutine does the write, so
// a slow reader does not stall the read loop until the queue is full.
type streamOutput struct {
	name string
	f    *os.File // closed by dw
	dw   *directio.Writer
	pw   *pcapng.Writer
	enc  *encoder
}

// The queue of a stream: enough for bursts, small enough that a stalled
// reader shows quickly.
const (
	streamBufferSize = 1 << 20
	streamBuffers    = 4
	// streamStopGrace is how long a stopping capture waits for the reader
	// of a -w FIFO to take the rest of the stream.
	streamStopGrace = 3 * time.Second
)

func newStreamOutput(f *os.File, name string, cfg *encoderConfig, app string) *streamOutput {
	s := &streamOutput{name: name, f: f, dw: directio.NewWriter(f, &directio.Options{BufferSize: streamBufferSize, Buffers: streamBuffers})}
	s.pw = pcapng.NewWriter(s.dw, &pcapng.WriterOptions{Application: app})
	s.enc = newEncoder(cfg, s.pw)
	return s
}

func (s *streamOutput) writeBatch(evs []nflog.Event) error {
	for i := range evs {
		if err := s.enc.write(&evs[i]); err != nil {
			return s.wrap(err)
		}
	}
	if err := s.pw.Flush(); err != nil {
		return s.wrap(err)
	}
	return s.wrap(s.dw.Flush())
}

func (s *streamOutput) tick() error         { return nil }
func (s *streamOutput) nextTick() time.Time { return time.Time{} }
func (s *streamOutput) rotateNow() error    { return nil }

func (s *streamOutput) close() error {
	err := s.pw.Close()
	if cerr := s.dw.Close(); err == nil {
		err = cerr
	}
	return s.wrap(err)
}

func (s *streamOutput) wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("%s: %w", s.name, errReaderGone)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: the reader took nothing for %v after the capture was told to stop; stream cut off (%w: %w)",
			s.name, streamStopGrace, errReaderGone, err)
	}
	return fmt.Errorf("write %s: %w", s.name, err)
}

// textOutput prints one line per packet.
type textOutput struct {
	tp *textPrinter
}

func (t *textOutput) writeBatch(evs []nflog.Event) error {
	for i := range evs {
		if err := t.tp.write(&evs[i]); err != nil {
			return t.wrap(err)
		}
	}
	return t.wrap(t.tp.flush())
}

func (t *textOutput) tick() error         { return nil }
func (t *textOutput) nextTick() time.Time { return time.Time{} }
func (t *textOutput) rotateNow() error    { return nil }
func (t *textOutput) close() error        { return t.wrap(t.tp.flush()) }

func (t *textOutput) wrap(err error) error {
	if err != nil && errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("standard output: %w", errReaderGone)
	}
	return err
}
