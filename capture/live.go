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

// liveOutput streams to a FIFO next to the main output (--live). Unlike the
// main output it never holds the capture back: while no reader is there, or
// the reader lags a whole queue behind, batches skip the live view (counted),
// and when the reader goes, a new one can come and gets a new stream.
type liveOutput struct {
	path    string
	cfg     *encoderConfig
	app     string
	stderr  io.Writer
	quiet   bool
	cur     *streamOutput
	dropped uint64

	conns  chan *os.File // a reader arrived
	redial chan struct{} // the reader left: look for the next
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newLiveOutput(path string, cfg *encoderConfig, app string, stderr io.Writer, quiet bool) *liveOutput {
	l := &liveOutput{
		path: path, cfg: cfg, app: app, stderr: stderr, quiet: quiet,
		conns: make(chan *os.File, 1), redial: make(chan struct{}, 1), stop: make(chan struct{}),
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
			// Non-blocking only to not wait in open; writes may block (in
			// the stream's writer goroutine, never in the read loop).
			unix.SetNonblock(fd, false)
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
			if !l.quiet {
				fmt.Fprintf(l.stderr, "nflogcap: live view %s: reader connected\n", l.path)
			}
		default:
			l.dropped += uint64(len(evs))
			return nil
		}
	}
	if l.cur.dw.Backlog() >= streamOptions.Buffers-1 {
		l.dropped += uint64(len(evs)) // the reader is a queue behind
		return nil
	}
	if err := l.cur.writeBatch(evs); err != nil {
		l.disconnect(err)
	}
	return nil
}

// disconnect drops the current reader and starts looking for the next.
func (l *liveOutput) disconnect(err error) {
	if !l.quiet {
		fmt.Fprintf(l.stderr, "nflogcap: live view %s: %v; waiting for a new reader\n", l.path, err)
	}
	l.cur.close()
	l.cur = nil
	select {
	case l.redial <- struct{}{}:
	default:
	}
}

func (l *liveOutput) tick() error      { return nil }
func (l *liveOutput) rotateNow() error { return nil }

func (l *liveOutput) close() error {
	close(l.stop)
	l.wg.Wait()
	select {
	case f := <-l.conns:
		f.Close()
	default:
	}
	if l.cur != nil {
		if err := l.cur.close(); err != nil && !errors.Is(err, errReaderGone) {
			return err
		}
	}
	return nil
}
