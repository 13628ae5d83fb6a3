//go:build linux

package nflog

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	// readBufferSize holds the largest datagram the kernel builds: with
	// NLBUFSIZ 128 KiB the batch skb is rounded up to a 256 KiB allocation and
	// the kernel fills its whole tailroom.
	readBufferSize = 512 << 10
	// setupBacklogMax bounds the packets kept while waiting for configuration
	// acknowledgments; beyond it they are counted in Stats.Discarded.
	setupBacklogMax = 16 << 20
	// setupTimeout bounds each configuration exchange when the context has
	// no earlier deadline.
	setupTimeout = 5 * time.Second
	// drainTimeout bounds how long Receive waits for the rest of the stream
	// after Unbind when the kernel's acknowledgment does not come.
	drainTimeout = 2 * time.Second
)

// Listener receives the packets logged to one NFLOG group. Receive, Rebind
// and SetReadDeadline belong to one goroutine (the caller's read loop); Close,
// Unbind and Stats may be called from any goroutine.
type Listener struct {
	cfg  Config // validated, defaults filled in
	conn *netlink.Conn
	raw  syscall.RawConn

	// Read-loop state, owned by the goroutine calling Receive.
	buf      []byte
	dgram    datagram
	readFn   func(fd uintptr) bool // l.recv, bound once so reads do not allocate
	readN    int
	readErr  syscall.Errno
	pending  []pendingDatagram // datagrams with packets that arrived during setup
	backlog  int               // bytes in pending
	seq      seqState          // the group's sequence numbers so far
	eof      bool
	overrun  OverrunError
	setupAck func(ack) // set while configuring: receives acknowledgments

	sendMu    sync.Mutex // serializes requests
	reqSeq    uint32     // netlink sequence of the last request (under sendMu)
	unbindSeq atomic.Uint32
	closed    atomic.Bool

	stats counters
}

// pendingDatagram is a datagram read during setup, with its arrival time:
// packets without a kernel timestamp get that time, not the time Receive
// handles them.
type pendingDatagram struct {
	b  []byte
	at time.Time
}

// Listen binds cfg.Group and configures it. See ListenContext.
func Listen(cfg *Config) (*Listener, error) {
	return ListenContext(context.Background(), cfg)
}

// ListenContext validates cfg (returning a *ConfigError before anything is
// sent to the kernel), opens a netlink socket in the configured namespace,
// sets the receive buffer and sends, each acknowledged and checked: PF_BIND
// for each family, then one request that binds the group and sets the copy
// mode, the batch timeout, NLBUFSIZ (when set or automatic), the queue
// threshold and the flags, so the first packet logged already has them.
// ctx bounds the setup only; it has no effect once ListenContext returns.
func ListenContext(ctx context.Context, cfg *Config) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	ns, err := openNetNS(&c)
	if err != nil {
		return nil, err
	}
	defer ns.close()

	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: ns.fd})
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil, &OpError{Op: "open netlink socket", Group: c.Group, Err: ErrNotSupported}
		}
		return nil, &OpError{Op: "open netlink socket", Group: c.Group, Err: err}
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, &OpError{Op: "open netlink socket", Group: c.Group, Err: err}
	}
	l := &Listener{cfg: c, conn: conn, raw: raw, buf: make([]byte, readBufferSize)}
	l.readFn = l.recv
	if err := l.setRcvBuf(c.RcvBuf); err != nil {
		conn.Close()
		return nil, err
	}
	if err := l.configure(ctx, ns, true); err != nil {
		conn.Close()
		return nil, err
	}
	return l, nil
}

// Config returns the configuration in effect, with defaults filled in and
// NLBufSize as clamped.
func (l *Listener) Config() Config {
	c := l.cfg
	c.Families = append([]Family(nil), c.Families...)
	return c
}

// PortID is the netlink port id of the listener's socket, as
// /proc/net/netfilter/nfnetlink_log shows it.
func (l *Listener) PortID() uint32 { return l.conn.PID() }

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats { return l.stats.snapshot() }

// SetReadDeadline makes a blocked Receive return an error wrapping
// os.ErrDeadlineExceeded at t. The zero time means no deadline.
func (l *Listener) SetReadDeadline(t time.Time) error {
	return l.conn.SetReadDeadline(t)
}

// Receive blocks until the kernel sends packets and returns them: usually a
// whole kernel batch from one datagram. The events are valid until the next
// Receive, Rebind or Close. After an overrun it returns an *OverrunError
// (errors.Is(err, ErrResyncNeeded)) and may be called again. After Unbind it
// returns the remaining packets, then io.EOF; after Close, ErrClosed.
func (l *Listener) Receive() ([]Event, error) {
	for {
		if l.closed.Load() {
			return nil, ErrClosed
		}
		if len(l.pending) > 0 {
			p := l.pending[0]
			l.pending[0] = pendingDatagram{}
			l.pending = l.pending[1:]
			l.backlog -= len(p.b)
			if evs := l.process(p.b, p.at); len(evs) > 0 {
				return evs, nil
			}
			continue
		}
		if l.eof {
			return nil, io.EOF
		}
		n, err := l.read()
		if err != nil {
			switch {
			case err == unix.ENOBUFS:
				if l.unbindSeq.Load() != 0 {
					// Unbinding: the kernel queued all it will send when it
					// took the request, and what it dropped may be the
					// acknowledgment. Take what is queued without waiting
					// for that (a past deadline: see read), not the whole
					// drainTimeout.
					l.conn.SetReadDeadline(time.Now())
				}
				return nil, l.onOverrun()
			case l.closed.Load():
				return nil, ErrClosed
			}
			return nil, &OpError{Op: "receive", Group: l.cfg.Group, Err: err}
		}
		if evs := l.process(l.buf[:n], time.Now()); len(evs) > 0 {
			return evs, nil
		}
	}
}

// read reads one datagram into l.buf. After Unbind, once the drain deadline
// passes, it switches to non-blocking reads and reports the end of the
// stream as l.eof.
func (l *Listener) read() (int, error) {
	err := l.raw.Read(l.readFn)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && l.unbindSeq.Load() != 0 {
		// The acknowledgment of the unbind was lost (overrun) or is late:
		// take what is queued without waiting, then stop.
		more := false
		err = l.raw.Control(func(fd uintptr) { more = l.recv(fd) })
		if err == nil && !more {
			l.eof = true
			return 0, nil
		}
	}
	if err != nil {
		return 0, err
	}
	if l.readErr != 0 {
		return 0, l.readErr
	}
	if l.readN > len(l.buf) {
		// Cannot happen with readBufferSize as sized; if it does, the
		// messages that fit are kept and the sequence gap counts the rest.
		l.stats.truncated.Add(1)
		return len(l.buf), nil
	}
	return l.readN, nil
}

// recv is the raw read: recvfrom with MSG_TRUNC, so a datagram larger than the
// buffer is noticed, and without a source address, so nothing is allocated.
// It returns false when there is nothing to read yet. It sets l.readErr on
// every call, so an errno never outlives the read that got it.
//
// It is a raw syscall: with MSG_DONTWAIT it never blocks (the poller waits
// for data instead), and skipping the runtime's syscall entry spares a
// wakeup of its monitor thread per read. With every P idle between
// batches, entersyscall wakes sysmon each time; measured under a 64-byte
// flood, that thread then spent about 0.03 µs of system CPU per packet.
func (l *Listener) recv(fd uintptr) bool {
	l.readErr = 0
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&l.buf[0])), uintptr(len(l.buf)),
			unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			l.readN = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			l.readErr = errno
			return true
		}
	}
}

// process parses one datagram that arrived at recvTime, handles
// acknowledgments, accounts sequence gaps and updates the counters once for
// the whole datagram.
func (l *Listener) process(b []byte, recvTime time.Time) []Event {
	d := &l.dgram
	d.parseCounting(b, recvTime, &l.seq)
	for _, a := range d.acks[:d.nacks] {
		if l.setupAck != nil {
			l.setupAck(a)
		}
		if s := l.unbindSeq.Load(); s != 0 && a.seq == s {
			l.eof = true
		}
	}
	s := &l.stats
	s.datagrams.Add(1)
	if n := len(d.events); n > 0 {
		s.packets.Add(uint64(n))
		s.bytes.Add(d.bytes)
	}
	if d.lost > 0 {
		s.lost.Add(d.lost)
	}
	if d.reordered > 0 {
		s.reordered.Add(d.reordered)
	}
	if d.malformed > 0 {
		s.malformed.Add(uint64(d.malformed))
	}
	if d.sawSeq && s.lossPending.Load() {
		s.lossPending.Store(false)
	}
	return d.events
}

// onOverrun counts an ENOBUFS report, grows the receive buffer when allowed
// and returns the reused *OverrunError.
func (l *Listener) onOverrun() error {
	s := &l.stats
	n := s.overruns.Add(1)
	s.lossPending.Store(true)
	grown := false
	cur := int(s.rcvBuf.Load())
	if max := l.cfg.RcvBufMax; max > cur {
		if err := l.setRcvBuf(min(cur*2, max)); err == nil && int(s.rcvBuf.Load()) > cur {
			grown = true
			s.rcvBufGrown.Add(1)
		}
	}
	l.overrun = OverrunError{Overruns: n, RcvBuf: int(s.rcvBuf.Load()), Grown: grown}
	return &l.overrun
}

// Unbind starts a graceful stop: it asks the kernel to unbind the group, which
// first flushes the batch the kernel still holds. Receive returns what is
// left, then io.EOF. Close must still be called.
func (l *Listener) Unbind() error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.unbindSeq.Load() != 0 {
		return nil
	}
	// The reader may see the acknowledgment before Send returns, so it must
	// know the sequence number first.
	next := l.reqSeq + 1
	if next == 0 {
		next = 1
	}
	l.unbindSeq.Store(next)
	if _, err := l.sendLocked(0, uint16(l.cfg.Group), encodeCmd(cmdUnbind), true); err != nil {
		l.unbindSeq.Store(0)
		return &OpError{Op: "unbind", Group: l.cfg.Group, Err: err}
	}
	return l.conn.SetReadDeadline(time.Now().Add(drainTimeout))
}

// Close unbinds the group and closes the socket. Packets not yet received are
// dropped; use Unbind first to collect them. A Receive blocked in another
// goroutine returns ErrClosed. Close is idempotent.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	var err error
	l.sendMu.Lock()
	if l.unbindSeq.Load() == 0 {
		// The kernel handles the request inside sendmsg, so the group is
		// unbound when Send returns; no need to wait for an answer.
		if _, serr := l.sendLocked(0, uint16(l.cfg.Group), encodeCmd(cmdUnbind), false); serr != nil {
			err = &OpError{Op: "unbind", Group: l.cfg.Group, Err: serr}
		}
	}
	l.sendMu.Unlock()
	if cerr := l.conn.Close(); cerr != nil && err == nil {
		err = &OpError{Op: "close", Group: l.cfg.Group, Err: cerr}
	}
	return err
}

// Rebind drops the binding, discards everything queued for it and binds the
// group again with the same configuration: the clean slate the reference
// design offers after an overrun. Sequence numbers start again from 0.
// Call it from the goroutine that calls Receive.
func (l *Listener) Rebind() error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.sendMu.Lock()
	_, err := l.sendLocked(0, uint16(l.cfg.Group), encodeCmd(cmdUnbind), false)
	l.sendMu.Unlock()
	if err != nil {
		return &OpError{Op: "rebind: unbind", Group: l.cfg.Group, Err: err}
	}
	// The unbind, and the flush of the kernel's batch, happened inside
	// sendmsg: everything of the old binding is queued now. Drop it.
	for _, p := range l.pending {
		d := &l.dgram
		d.parse(p.b, time.Time{})
		l.stats.discarded.Add(uint64(len(d.events)))
	}
	l.pending, l.backlog = nil, 0
	for {
		more := false
		if err := l.raw.Control(func(fd uintptr) { more = l.recv(fd) }); err != nil {
			return &OpError{Op: "rebind: drain", Group: l.cfg.Group, Err: err}
		}
		if !more {
			break
		}
		switch l.readErr {
		case 0:
		case unix.ENOBUFS:
			// Messages of the old binding were dropped; they would have
			// been discarded anyway, but the overrun is still counted.
			l.stats.overruns.Add(1)
			continue
		default:
			return &OpError{Op: "rebind: drain", Group: l.cfg.Group, Err: l.readErr}
		}
		l.dgram.parse(l.buf[:min(l.readN, len(l.buf))], time.Time{})
		l.stats.discarded.Add(uint64(len(l.dgram.events)))
	}
	l.seq, l.eof = seqState{}, false
	l.unbindSeq.Store(0)
	l.stats.lossPending.Store(false)
	if err := l.configure(context.Background(), netNS{}, false); err != nil {
		return err
	}
	return nil
}
