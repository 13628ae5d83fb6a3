//go:build linux

package nflog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Config commands and attributes (NFULNL_CFG_CMD_*, NFULA_CFG_*).
const (
	cmdBind   = 1
	cmdUnbind = 2
	cmdPFBind = 3

	cfgAttrCmd      = 1
	cfgAttrMode     = 2
	cfgAttrNLBufSiz = 3
	cfgAttrTimeout  = 4
	cfgAttrQThresh  = 5
	cfgAttrFlags    = 6
)

// configure sends the start-up sequence, each request acknowledged and
// checked: PF_BIND per family (when pfBind), then BIND with every setting.
// Packets that arrive meanwhile are kept for Receive.
func (l *Listener) configure(ctx context.Context, ns netNS, pfBind bool) error {
	deadline := time.Now().Add(setupTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := l.conn.SetReadDeadline(deadline); err != nil {
		return &OpError{Op: "configure", Group: l.cfg.Group, Err: err}
	}
	stop := context.AfterFunc(ctx, func() { l.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		l.conn.SetReadDeadline(time.Time{})
	}()

	c := &l.cfg
	group := uint16(c.Group)
	steps := make([]setupStep, 0, 8)
	if pfBind {
		for _, f := range c.Families {
			steps = append(steps, setupStep{"pf-bind family " + f.String(), uint8(f), 0, encodeCmd(cmdPFBind)})
		}
	}
	steps = append(steps, setupStep{fmt.Sprintf("bind group %d", c.Group), 0, group, c.bindRequest()})
	for _, s := range steps {
		if err := l.exchange(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

type setupStep struct {
	op     string
	family uint8
	resID  uint16
	attrs  []byte
}

// bindRequest encodes BIND with every setting in one request. The kernel
// (nfulnl_recv_config) creates the instance and applies the MODE, TIMEOUT,
// NLBUFSIZ, QTHRESH and FLAGS attributes of the same message in that call,
// so packets are not logged with the kernel's defaults (full copy, no
// sequence numbers, qthresh 100, 1 s) for the round trips that separate
// requests took; only a packet logged on another CPU in the instant between
// creation and settings could still see them. The kernel checks the flags
// before it binds, so a refused flag leaves the group unbound, and ignores
// the setters' results, so only the bind or the flags can fail.
func (c *Config) bindRequest() []byte {
	b := encodeCmd(cmdBind)
	b = appendMode(b, c.CopyMode, c.Snaplen)
	// Timeout and threshold are always sent: the kernel's defaults would
	// hold packets back, which is what makes other NFLOG readers lag.
	b = appendU32(b, cfgAttrTimeout, c.timeoutUnits())
	if c.NLBufSize != 0 {
		b = appendU32(b, cfgAttrNLBufSiz, uint32(c.NLBufSize))
	}
	b = appendU32(b, cfgAttrQThresh, uint32(c.QThresh))
	return appendAttr(b, cfgAttrFlags, binary.BigEndian.AppendUint16(nil, uint16(c.Flags)))
}

// exchange sends one request and waits for its acknowledgment.
func (l *Listener) exchange(ctx context.Context, s setupStep) error {
	l.sendMu.Lock()
	seq, err := l.sendLocked(s.family, s.resID, s.attrs, true)
	l.sendMu.Unlock()
	if err != nil {
		return &OpError{Op: s.op, Group: l.cfg.Group, Err: err}
	}
	errno, err := l.waitAck(seq)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("no answer from the kernel within %v (receive buffer overrun during setup?): %w", setupTimeout, err)
		}
		return &OpError{Op: s.op, Group: l.cfg.Group, Err: err}
	}
	if errno != 0 {
		return l.kernelError(s, syscall.Errno(errno))
	}
	return nil
}

// waitAck reads until the acknowledgment for seq arrives and returns its
// errno. Datagrams with packets are kept for Receive, up to setupBacklogMax.
func (l *Listener) waitAck(seq uint32) (int32, error) {
	var (
		got   bool
		errno int32
	)
	l.setupAck = func(a ack) {
		if a.seq == seq {
			got, errno = true, a.errno
		}
	}
	defer func() { l.setupAck = nil }()
	for !got {
		if err := l.raw.Read(l.readFn); err != nil {
			return 0, err
		}
		if l.readErr == unix.ENOBUFS {
			l.stats.overruns.Add(1)
			l.stats.lossPending.Store(true)
			continue
		}
		if l.readErr != 0 {
			return 0, l.readErr
		}
		b := l.buf[:min(l.readN, len(l.buf))]
		d := &l.dgram
		d.parse(b, time.Time{})
		for _, a := range d.acks[:d.nacks] {
			l.setupAck(a)
		}
		if len(d.events) == 0 {
			continue
		}
		if l.backlog+len(b) > setupBacklogMax {
			l.stats.discarded.Add(uint64(len(d.events)))
			continue
		}
		// The acks were handled above; keep only the packets' datagram.
		l.pending = append(l.pending, pendingDatagram{append([]byte(nil), b...), time.Now()})
		l.backlog += len(b)
	}
	return errno, nil
}

// sendLocked sends one NFULNL_MSG_CONFIG request; l.sendMu must be held.
func (l *Listener) sendLocked(family uint8, resID uint16, attrs []byte, wantAck bool) (uint32, error) {
	l.reqSeq++
	if l.reqSeq == 0 {
		l.reqSeq = 1
	}
	data := make([]byte, nfgenHeaderLen+len(attrs))
	data[0] = family
	data[1] = 0 // NFNETLINK_V0
	binary.BigEndian.PutUint16(data[2:], resID)
	copy(data[nfgenHeaderLen:], attrs)
	flags := netlink.Request
	if wantAck {
		flags |= netlink.Acknowledge
	}
	_, err := l.conn.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(msgTypeConfig), Flags: flags, Sequence: l.reqSeq},
		Data:   data,
	})
	return l.reqSeq, err
}

// appendAttr appends one netlink attribute: native-order header, the value,
// padding to 4 bytes.
func appendAttr(b []byte, typ uint16, value []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(nlaHeaderLen+len(value)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func encodeCmd(cmd uint8) []byte { return appendAttr(nil, cfgAttrCmd, []byte{cmd}) }

// Attribute values are in network order.
func appendU32(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, binary.BigEndian.AppendUint32(nil, v))
}

// appendMode appends struct nfulnl_msg_config_mode {be32 copy_range; u8 mode; u8 pad}.
func appendMode(b []byte, m CopyMode, snaplen int) []byte {
	var v [6]byte
	if m == CopyPacket {
		r := snaplen
		if r == 0 {
			r = MaxSnaplen
		}
		binary.BigEndian.PutUint32(v[:], uint32(r))
	}
	v[4] = m.kernel()
	return appendAttr(b, cfgAttrMode, v[:])
}

// kernelError turns a negative acknowledgment into an error that says what
// is wrong and what to do.
func (l *Listener) kernelError(s setupStep, errno syscall.Errno) error {
	op := &OpError{Op: s.op, Group: l.cfg.Group, Err: errno}
	switch errno {
	case unix.EPERM:
		hasCap := hasCapNetAdmin()
		var owner *GroupInUseError
		if hasCap && s.resID != 0 {
			owner = &GroupInUseError{Group: l.cfg.Group}
			l.findGroupOwner(owner)
		}
		return permissionError(op, hasCap, owner, l.PortID())
	case unix.EOPNOTSUPP:
		// Only the flags can be unsupported; the bind request carries them.
		if l.cfg.Flags&FlagConntrack != 0 && s.resID != 0 {
			op.Op += ": set flags " + l.cfg.Flags.String()
			op.Err = fmt.Errorf("%w: this kernel cannot attach conntrack to NFLOG: it needs CONFIG_NETFILTER_NETLINK_GLUE_CT and nf_conntrack_netlink loaded", errno)
		}
	case unix.EINVAL, unix.ENOENT:
		if _, err := os.Stat("/proc/net/netfilter/nfnetlink_log"); err != nil {
			op.Err = fmt.Errorf("%w: %w", ErrNotSupported, errno)
		}
	}
	return op
}

// permissionError says what an EPERM from the kernel means. Without
// CAP_NET_ADMIN over the socket's namespace every request fails with EPERM
// (the capability in a user namespace of the caller's own is not enough);
// a group request also fails with EPERM when another socket owns the group.
// Only an owner other than this socket, as nfnetlink_log's proc file shows
// it, makes it the latter. owner is nil when it was not looked up.
func permissionError(op *OpError, hasCap bool, owner *GroupInUseError, self uint32) error {
	if owner != nil && owner.Port != 0 && owner.Port != self {
		return owner
	}
	if hasCap {
		op.Err = fmt.Errorf("%w; this process has it, but not in the user namespace that owns the network namespace: %w", ErrPermission, op.Err)
	} else {
		op.Err = fmt.Errorf("%w: %w", ErrPermission, op.Err)
	}
	return op
}

// setRcvBuf asks for n bytes of receive buffer, forcing past rmem_max when
// the process may, and records what the kernel granted.
func (l *Listener) setRcvBuf(n int) error {
	var serr error
	err := l.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
		if serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
		if serr != nil {
			return
		}
		var got int
		got, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		// The kernel books twice the requested size for its own overhead.
		l.stats.rcvBuf.Store(uint64(got / 2))
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return &OpError{Op: fmt.Sprintf("set receive buffer to %d bytes", n), Group: l.cfg.Group, Err: err}
	}
	return nil
}

// netNS is an open namespace file descriptor, or 0 for the caller's own.
type netNS struct {
	fd   int
	file *os.File
}

func (n netNS) close() {
	if n.file != nil {
		n.file.Close()
	}
}

// openNetNS resolves Config.NetNS (a name under /run/netns or a path) or
// Config.NetNSFD.
func openNetNS(c *Config) (netNS, error) {
	if c.NetNSFD != 0 {
		return netNS{fd: c.NetNSFD}, nil
	}
	if c.NetNS == "" {
		return netNS{}, nil
	}
	path := c.NetNS
	if !strings.ContainsRune(path, '/') {
		path = filepath.Join("/run/netns", path)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return netNS{}, &OpError{Op: "open network namespace " + c.NetNS, Group: c.Group,
				Err: fmt.Errorf("%w: %s does not exist (see ip netns list)", ErrNetNSNotFound, path)}
		}
		return netNS{}, &OpError{Op: "open network namespace " + c.NetNS, Group: c.Group, Err: err}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err == nil && st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		f.Close()
		return netNS{}, &OpError{Op: "open network namespace " + c.NetNS, Group: c.Group,
			Err: fmt.Errorf("%w: %s is not a namespace file", ErrNetNSNotFound, path)}
	}
	return netNS{fd: int(f.Fd()), file: f}, nil
}
