package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/nflog"
)

// liveRetry is how often the live view looks for a reader on its FIFO.
const liveRetry = 200 * time.Millisecond

// liveCloseGrace is how long the end of a capture lets the live view's
// reader take what is still queued for it and the statistics blocks. A
// reader that has not taken it all by then is cut off: the capture does not
// wait for the live view.
const liveCloseGrace = 2 * time.Second

// liveOutput streams to a FIFO next to the main output (--live). Unlike the
// main output it never holds the capture back: while no reader is there, or
// the reader lags a whole queue behind, batches skip the live view (counted),
// and when the reader goes, a new one can come and gets a new stream.
//
// Packets skipped while a reader is connected are drops of its stream, as
// the kernel's losses are: the next packet of the same group in the stream
// counts them in its epb_dropcount (and its comment's lost=), so they are in
// that interface's isb_ifdrop too; those skipped after a group's last packet
// in the stream go to the statistics block of the interface of that last
// packet. Packets skipped while no reader is connected precede the next
// stream and are only counted in the exit statistics.
type liveOutput struct {
	path    string
	cfg     *encoderConfig
	app     string
	stderr  io.Writer
	quiet   bool
	cur     *streamOutput
	dropped uint64 // packets skipped, for the exit statistics

	groups []liveGroup // what the current stream owes each group
	ev     nflog.Event // copy of an event that carries skipped packets

	conns  chan *os.File // a reader arrived
	redial chan struct{} // the reader left: look for the next
	stop   chan struct{}
	wg     sync.WaitGroup
}

// liveGroup is what the current live stream owes one group.
type liveGroup struct {
	group   uint16
	skipped uint64 // packets skipped (and the kernel's losses before them) since the group's last packet in the stream
	iface   int    // interface of the group's last packet in the stream; -1 before the first
}

func newLiveOutput(path string, cfg *encoderConfig, app string, stderr io.Writer, quiet bool, groups []int) *liveOutput {
	l := &liveOutput{
		path: path, cfg: cfg, app: app, stderr: stderr, quiet: quiet,
		conns: make(chan *os.File, 1), redial: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	for _, g := range groups {
		l.groups = append(l.groups, liveGroup{group: uint16(g), iface: -1})
	}
	l.wg.Add(1)
	go l.connect()
	return l
}

// connect waits for a reader to open the FIFO, hands the file over, and
// waits for the reader to leave before looking again.
func (l *liveOutput) connect() {
	defer l.wg.Done()
	for {
		fd, err := unix.Open(l.path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			// Left non-blocking, so os.NewFile puts the FIFO in the
			// runtime's poller: the stream's writer goroutine (never the
			// read loop) waits there for the reader, and a write deadline
			// can cut off a reader that does not read (close, disconnect).
			select {
			case l.conns <- os.NewFile(uintptr(fd), l.path):
			case <-l.stop:
				unix.Close(fd)
				return
			}
			select {
			case <-l.redial:
			case <-l.stop:
				return
			}
			continue
		}
		if !errors.Is(err, unix.ENXIO) && !l.quiet {
			fmt.Fprintf(l.stderr, "nflogcap: live view %s: %v\n", l.path, err)
		}
		select {
		case <-time.After(liveRetry):
		case <-l.stop:
			return
		}
	}
}

func (l *liveOutput) writeBatch(evs []nflog.Event) error {
	if l.cur == nil {
		select {
		case f := <-l.conns:
			l.cur = newStreamOutput(f, "live FIFO "+l.path, l.cfg, l.app)
			for i := range l.groups {
				l.groups[i].skipped, l.groups[i].iface = 0, -1
			}
			if !l.quiet {
				fmt.Fprintf(l.stderr, "nflogcap: live view %s: reader connected\n", l.path)
			}
		default:
			l.dropped += uint64(len(evs))
			return nil
		}
	}
	if l.cur.dw.Backlog() >= streamBuffers-1 {
		l.skip(evs) // the reader is a queue behind
		return nil
	}
	if err := l.send(evs); err != nil {
		l.disconnect(err)
	}
	return nil
}

// skip leaves a batch out of the current stream and counts it as the
// stream's drops.
func (l *liveOutput) skip(evs []nflog.Event) {
	l.dropped += uint64(len(evs))
	for i := range evs {
		g := l.group(evs[i].Group)
		g.skipped = liveAdd(g.skipped, liveAdd(evs[i].LostBefore, 1))
	}
}

// send writes a batch to the current stream. A packet whose group had
// packets skipped carries them in its drop count.
func (l *liveOutput) send(evs []nflog.Event) error {
	s := l.cur
	for i := range evs {
		ev := &evs[i]
		g := l.group(ev.Group)
		if g.skipped > 0 {
			l.ev = *ev
			l.ev.LostBefore = liveAdd(l.ev.LostBefore, g.skipped)
			ev = &l.ev
		}
		if err := s.enc.write(ev); err != nil {
			return s.wrap(err)
		}
		g.skipped = 0
		g.iface = s.enc.pkt.Interface
	}
	if err := s.pw.Flush(); err != nil {
		return s.wrap(err)
	}
	return s.wrap(s.dw.Flush())
}

// group returns the entry of group id; one per group of the capture, made
// at the start.
func (l *liveOutput) group(id uint16) *liveGroup {
	for i := range l.groups {
		if l.groups[i].group == id {
			return &l.groups[i]
		}
	}
	l.groups = append(l.groups, liveGroup{group: id, iface: -1})
	return &l.groups[len(l.groups)-1]
}

// disconnect drops the current reader and starts looking for the next.
func (l *liveOutput) disconnect(err error) {
	if !l.quiet {
		fmt.Fprintf(l.stderr, "nflogcap: live view %s: %v; waiting for a new reader\n", l.path, err)
	}
	l.cur.f.SetWriteDeadline(time.Now()) // nothing more is for this reader
	l.cur.close()
	l.cur = nil
	select {
	case l.redial <- struct{}{}:
	default:
	}
}

func (l *liveOutput) tick() error         { return nil }
func (l *liveOutput) nextTick() time.Time { return time.Time{} }
func (l *liveOutput) rotateNow() error    { return nil }

// close ends the live stream with its statistics blocks, giving the reader
// liveCloseGrace to take them. The live view never fails the capture: its
// errors are reported, not returned.
func (l *liveOutput) close() error {
	close(l.stop)
	l.wg.Wait()
	select {
	case f := <-l.conns:
		f.Close()
	default:
	}
	s := l.cur
	if s == nil {
		return nil
	}
	l.cur = nil
	for i := range l.groups {
		if g := &l.groups[i]; g.skipped > 0 && g.iface >= 0 {
			s.pw.AddDrops(g.iface, g.skipped)
		}
	}
	if err := s.f.SetWriteDeadline(time.Now().Add(liveCloseGrace)); err != nil && !l.quiet {
		fmt.Fprintf(l.stderr, "nflogcap: live view %s: %v\n", l.path, err)
	}
	err := s.close()
	switch {
	case err == nil, l.quiet:
	case errors.Is(err, os.ErrDeadlineExceeded):
		fmt.Fprintf(l.stderr, "nflogcap: live view %s: the reader did not take the end of the stream within %v; live view cut off\n",
			l.path, liveCloseGrace)
	case errors.Is(err, errReaderGone):
	default:
		fmt.Fprintf(l.stderr, "nflogcap: live view %s: %v\n", l.path, err)
	}
	return nil
}

// liveAdd adds drop counts, sticking at 2^64-1 rather than wrapping (as
// the pcapng writer's counters do).
func liveAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
