package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nflogcap/nflogcap/internal/units"
	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// The periodic work (durability flushes, time-based rotation) runs when an
// output says it is due, at most maxTickWait apart (so background errors
// are still reported) and at least minTickWait. A fixed 100 ms tick cost an
// idle nflogcap 1.5-2.2 ms of CPU a second on this machine's VM; waking
// only when due, 0.2-0.3 ms.
const (
	minTickWait = 10 * time.Millisecond
	maxTickWait = time.Second
)

// Capture is a running capture. Start it, then Wait for it to end; Stop ends
// it gracefully (the kernel's pending batches are drained and written).
type Capture struct {
	opts      Options
	listeners []*nflog.Listener
	names     *ifNames
	encCfg    encoderConfig

	// stream is the FIFO or device -w names, nil otherwise; set by Start.
	stream *os.File

	mu       sync.Mutex // guards outputs, captured and live
	outputs  []output
	live     *liveOutput
	captured uint64
	// unwritten counts packets received but not written to the file
	// output, because a write error ended the capture in their batch.
	unwritten uint64

	stopOnce sync.Once
	stopping atomic.Bool
	errMu    sync.Mutex
	err      error // first fatal error
	readers  sync.WaitGroup
	tickStop chan struct{}
	tickDone chan struct{}
	lastWarn atomic.Int64 // unix ns of the last overrun message
}

// Start binds every group, runs AfterBind, opens the outputs and starts one
// read loop per group. ctx ends the capture gracefully when it is done.
func Start(ctx context.Context, opts Options) (*Capture, error) {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.MaxInterfaces <= 0 {
		opts.MaxInterfaces = DefaultMaxInterfaces
	}
	if opts.LinkType == 0 {
		opts.LinkType = pcapng.LinkTypeRaw
	}
	c := &Capture{opts: opts, tickStop: make(chan struct{}), tickDone: make(chan struct{})}

	// A FIFO given to -w waits for its reader before anything is bound, so
	// the kernel does not queue packets for nobody meanwhile; ctx ending
	// meanwhile ends Start with ErrStopped. A character device (/dev/null, a
	// tty) is a stream too.
	var stream *os.File
	if opts.Write != "" && opts.Write != "-" && isStream(opts.Write) {
		var err error
		if isFIFO(opts.Write) {
			if !opts.Quiet {
				fmt.Fprintf(opts.Stderr, "nflogcap: waiting for a reader on FIFO %s\n", opts.Write)
			}
			stream, err = openFIFOWriter(ctx, opts.Write)
		} else if stream, err = os.OpenFile(opts.Write, os.O_WRONLY, 0); err != nil {
			err = fmt.Errorf("open %s: %w", opts.Write, err)
		}
		if err != nil {
			return nil, err
		}
		c.stream = stream // before any goroutine that may call Stop
	}
	closeStream := func() {
		if stream != nil {
			stream.Close()
		}
	}

	if err := c.bind(ctx); err != nil {
		c.closeListeners()
		closeStream()
		return nil, err
	}
	if opts.AfterBind != nil {
		if err := opts.AfterBind(); err != nil {
			c.closeListeners()
			closeStream()
			return nil, err
		}
	}
	if err := c.openOutputs(stream); err != nil {
		c.closeListeners()
		return nil, err
	}
	// Said only now that packets have somewhere to go: a capture that fails
	// to start (an output it cannot create after -Z) prints one error line.
	if !opts.Quiet {
		for _, l := range c.listeners {
			fmt.Fprintln(opts.Stderr, listeningLine(l, &c.opts))
		}
	}
	for _, l := range c.listeners {
		c.readers.Add(1)
		go c.readLoop(l)
	}
	go c.tickLoop()
	go func() {
		var timeout <-chan time.Time
		if opts.Duration > 0 {
			t := time.NewTimer(opts.Duration)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		case <-c.tickDone:
			return
		}
		c.Stop()
	}()
	return c, nil
}

// bind opens a listener per group and the interface-name resolver.
func (c *Capture) bind(ctx context.Context) error {
	o := &c.opts
	for _, g := range o.Groups {
		cfg := o.Listener
		cfg.Group = g
		l, err := nflog.ListenContext(ctx, &cfg)
		if err != nil {
			return err
		}
		c.listeners = append(c.listeners, l)
	}
	nsfd, closeNS, err := openNS(o.Listener)
	if err != nil {
		return err
	}
	names, err := newIfNames(nsfd)
	closeNS()
	if err != nil {
		return fmt.Errorf("interface names: %w", err)
	}
	c.names = names
	hostOS, _ := pcapng.HostInfo()
	c.encCfg = encoderConfig{
		os:            hostOS,
		linkType:      o.LinkType,
		comments:      !o.NoComments,
		maxInterfaces: o.MaxInterfaces,
		copyMode:      o.Listener.CopyMode,
		snaplen:       o.Listener.Snaplen,
		names:         names,
	}
	return nil
}

// listeningLine is the line that tells users (and tests) capture has
// started.
func listeningLine(l *nflog.Listener, o *Options) string {
	cfg := l.Config()
	var b strings.Builder
	fmt.Fprintf(&b, "listening on nflog group %d", cfg.Group)
	if cfg.NetNS != "" {
		fmt.Fprintf(&b, " in namespace %s", cfg.NetNS)
	}
	fmt.Fprintf(&b, ", copy %s", cfg.CopyMode)
	if cfg.CopyMode == nflog.CopyPacket {
		snap := cfg.Snaplen
		if snap == 0 {
			snap = nflog.MaxSnaplen
		}
		fmt.Fprintf(&b, ", snaplen %d", snap)
	}
	fmt.Fprintf(&b, ", batch %d packets / %v", cfg.QThresh, cfg.Timeout)
	fmt.Fprintf(&b, ", flags %s", cfg.Flags)
	fmt.Fprintf(&b, ", receive buffer %s", units.FormatSize(int64(l.Stats().RcvBuf)))
	if cfg.RcvBufMax > cfg.RcvBuf {
		fmt.Fprintf(&b, " (grows to %s)", units.FormatSize(int64(cfg.RcvBufMax)))
	}
	fmt.Fprintf(&b, ", link type %s", linkTypeName(o.LinkType))
	return b.String()
}

func linkTypeName(lt pcapng.LinkType) string {
	switch lt {
	case pcapng.LinkTypeNFLOG:
		return "NFLOG"
	case pcapng.LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "RAW"
}

func (c *Capture) openOutputs(stream *os.File) error {
	o := &c.opts
	app := o.Application
	switch {
	case o.Write == "":
		c.outputs = append(c.outputs, &textOutput{tp: newTextPrinter(o.Stdout, c.names)})
	case o.Write == "-":
		c.outputs = append(c.outputs, newStreamOutput(o.Stdout, "standard output", &c.encCfg, app))
	case stream != nil:
		name := o.Write
		if isFIFO(o.Write) {
			name = "FIFO " + o.Write
		}
		c.outputs = append(c.outputs, newStreamOutput(stream, name, &c.encCfg, app))
	default:
		rc := o.Rotate
		rc.Path = o.Write
		if rc.Logf == nil {
			rc.Logf = func(format string, args ...any) {
				fmt.Fprintf(o.Stderr, "nflogcap: "+format+"\n", args...)
			}
		}
		if rc.MaxBytes > 0 && rc.BufferSize == 0 {
			rc.BufferSize = fileBufferSize(rc.MaxBytes)
		}
		if rc.MaxBytes == 0 && rc.Interval == 0 && rc.MaxFiles == 0 {
			rc.Single = true
		}
		f, err := openFileOutput(rc, &c.encCfg, app)
		if err != nil {
			return err
		}
		c.outputs = append(c.outputs, f)
	}
	if o.Live != "" {
		c.live = newLiveOutput(o.Live, &c.encCfg, app, o.Stderr, o.Quiet, o.Groups)
		c.outputs = append(c.outputs, c.live)
	}
	return nil
}

// readLoop receives one group's batches and writes them to every output.
func (c *Capture) readLoop(l *nflog.Listener) {
	defer c.readers.Done()
	group := l.Config().Group
	for {
		evs, err := l.Receive()
		switch {
		case err == nil:
		case errors.Is(err, nflog.ErrResyncNeeded):
			c.warnOverrun(group, err)
			continue
		case err == io.EOF, errors.Is(err, nflog.ErrClosed):
			return
		default:
			c.fail(fmt.Errorf("group %d: %w", group, err))
			return
		}
		if !c.write(evs) {
			c.Stop()
		}
	}
}

// write hands a batch to every output; it returns false when the capture
// must stop (count reached, or an output failed).
func (c *Capture) write(evs []nflog.Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit := c.opts.Count; limit > 0 {
		if c.captured >= limit {
			return false
		}
		if left := limit - c.captured; uint64(len(evs)) > left {
			evs = evs[:left]
		}
	}
	for _, o := range c.outputs {
		if err := o.writeBatch(evs); err != nil {
			if f, ok := o.(*fileOutput); ok {
				// What the file took before the error is captured (and
				// counted again if the error cut it); the rest is not.
				c.captured += uint64(f.accepted)
				c.unwritten += uint64(len(evs) - f.accepted)
			}
			c.fail(err)
			return false
		}
	}
	c.captured += uint64(len(evs))
	return c.opts.Count == 0 || c.captured < c.opts.Count
}

// warnOverrun reports a kernel drop on stderr, at most once a second.
func (c *Capture) warnOverrun(group int, err error) {
	now := time.Now().UnixNano()
	last := c.lastWarn.Load()
	if now-last < int64(time.Second) || !c.lastWarn.CompareAndSwap(last, now) {
		return
	}
	var oe *nflog.OverrunError
	msg := "the kernel dropped packets (receive buffer full)"
	if errors.As(err, &oe) && oe.Grown {
		msg += fmt.Sprintf("; receive buffer grown to %s", units.FormatSize(int64(oe.RcvBuf)))
	}
	fmt.Fprintf(c.opts.Stderr, "nflogcap: group %d: %s; the lost packets are counted from sequence gaps\n", group, msg)
}

func (c *Capture) tickLoop() {
	defer close(c.tickDone)
	c.mu.Lock()
	t := time.NewTimer(c.untilTick())
	c.mu.Unlock()
	defer t.Stop()
	for {
		select {
		case <-c.tickStop:
			return
		case <-t.C:
			c.mu.Lock()
			for _, o := range c.outputs {
				if err := o.tick(); err != nil {
					c.fail(err)
				}
			}
			t.Reset(c.untilTick())
			c.mu.Unlock()
		}
	}
}

// untilTick is how long the tick loop sleeps: until the first output's next
// due time, within [minTickWait, maxTickWait]. c.mu must be held.
func (c *Capture) untilTick() time.Duration {
	d := maxTickWait
	for _, o := range c.outputs {
		if due := o.nextTick(); !due.IsZero() {
			d = min(d, time.Until(due))
		}
	}
	return max(d, minTickWait)
}

// Rotate starts a new file now (SIGHUP). Errors end the capture.
func (c *Capture) Rotate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.outputs {
		if err := o.rotateNow(); err != nil {
			c.fail(err)
		}
	}
}

// fail records the first fatal error and stops the capture.
func (c *Capture) fail(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
	go c.Stop()
}

// Stop ends the capture gracefully: each group is unbound, so the kernel
// sends what it still holds, the read loops write it and end.
func (c *Capture) Stop() {
	c.stopOnce.Do(func() {
		c.stopping.Store(true)
		for _, l := range c.listeners {
			if err := l.Unbind(); err != nil {
				l.Close()
			}
		}
		if c.stream != nil {
			// A reader that has the FIFO open but takes nothing would
			// hold the read loop in a write forever: give it
			// streamStopGrace for the rest of the stream, then cut it off.
			// (A FIFO is pollable; /dev/null and ttys never block long.)
			c.stream.SetWriteDeadline(time.Now().Add(streamStopGrace))
		}
	})
}

// Wait waits for the capture to end, closes the outputs (statistics blocks,
// fsync, rename, manifest) and returns the statistics and the first error.
// A pipe reader going away is a clean end, not an error.
func (c *Capture) Wait() (Stats, error) {
	c.readers.Wait()
	close(c.tickStop)
	<-c.tickDone
	c.mu.Lock()
	var errs []error
	for _, o := range c.outputs {
		if err := o.close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.mu.Unlock()
	st := c.Stats()
	c.closeListeners()
	if c.names != nil {
		c.names.close()
	}
	c.errMu.Lock()
	err := c.err
	c.errMu.Unlock()
	if err == nil {
		err = errors.Join(errs...)
	}
	if errors.Is(err, errReaderGone) {
		if !c.opts.Quiet {
			fmt.Fprintf(c.opts.Stderr, "nflogcap: %v; stopping\n", err)
		}
		err = nil
	}
	return st, err
}

// Stats returns the statistics so far (SIGUSR1). Safe from any goroutine.
func (c *Capture) Stats() Stats {
	st := Stats{Groups: map[int]nflog.Stats{}}
	for _, l := range c.listeners {
		ls := l.Stats()
		st.Groups[l.Config().Group] = ls
		st.Lost += ls.Lost
		st.Overruns += ls.Overruns
		st.LossPending = st.LossPending || ls.LossPending
		st.RcvBuf = max(st.RcvBuf, ls.RcvBuf)
	}
	c.mu.Lock()
	st.Captured = c.captured
	st.Unwritten = c.unwritten
	for _, o := range c.outputs {
		if f, ok := o.(*fileOutput); ok {
			st.Overflowed += f.overflowed
			if f.enc != nil {
				st.Overflowed += f.enc.sum.overflowed
			}
			if f.rot != nil {
				rs := f.rot.Stats()
				st.CutBytes += rs.CutBytes
				st.CutPackets += rs.CutPackets
				st.CutUnknown = st.CutUnknown || rs.CutUnknown
			}
		}
	}
	if c.live != nil {
		st.LiveDropped = c.live.dropped
	}
	c.mu.Unlock()
	return st
}

func (c *Capture) closeListeners() {
	for _, l := range c.listeners {
		l.Close()
	}
}

func isFIFO(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// isStream reports whether path is a FIFO or a character device: written as
// a stream, never created, renamed or rotated.
func isStream(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeCharDevice) != 0
}

// openNS opens the capture's namespace for the interface-name resolver.
func openNS(cfg nflog.Config) (int, func(), error) {
	if cfg.NetNSFD != 0 {
		return cfg.NetNSFD, func() {}, nil
	}
	if cfg.NetNS == "" {
		return 0, func() {}, nil
	}
	path := cfg.NetNS
	if !strings.ContainsRune(path, '/') {
		path = "/run/netns/" + path
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	return int(f.Fd()), func() { f.Close() }, nil
}

// fileBufferSize sizes the write buffers of files rotated at maxBytes: half
// a file each, between 256 KiB and the 4 MiB default. Every file gets its
// own buffers, so with small files (-C 1MB) default-sized ones would be
// mostly empty memory allocated anew at each rotation.
func fileBufferSize(maxBytes int64) int {
	const lo, hi, align = 256 << 10, 4 << 20, 4096
	n := min(max((maxBytes/2+align-1)&^(align-1), lo), hi)
	return int(n)
}
