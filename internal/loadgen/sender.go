//go:build linux

// Package loadgen floods UDP datagrams with sendmmsg for the benchmark harness.
// Every datagram carries its sequence number in its first 8 bytes, so captures
// can be checked for exactly which packets arrived.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Config says what to send.
type Config struct {
	Count    int     // datagrams to send; > 0
	Size     int     // UDP payload bytes; >= SeqLen
	Rate     float64 // datagrams per second; 0 sends as fast as one core allows
	Batch    int     // messages per sendmmsg call; 0 means DefaultBatch
	FirstSeq uint64  // sequence number of the first datagram
}

// DefaultBatch amortises the syscall without making the per-call work so large
// that a rate limit or a cancelled context is noticed late.
const DefaultBatch = 64

// Result is what Send did. Sent is exact: it is the sum of what sendmmsg
// reported as sent, and a message the kernel refused is retried, not counted.
type Result struct {
	Sent     int           // datagrams the kernel accepted
	Duration time.Duration // from the first sendmmsg call to the last return
	Retries  int           // calls that failed with a transient error (ENOBUFS, EAGAIN, ...) and were retried
	Calls    int           // sendmmsg calls that sent at least one datagram
}

// Rate is the achieved send rate in datagrams per second.
func (r Result) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Duration.Seconds()
}

// Sender is a connected UDP socket. Create it inside the target namespace
// (netns.NS.Do); it stays there whichever thread sends later.
type Sender struct {
	fd  int
	dst netip.AddrPort
}

// sendBuffer is large enough that a blocking send rarely waits for the kernel
// to free earlier skbs; it is forced past wmem_max because the harness runs as root.
const sendBuffer = 4 << 20

// Dial opens a UDP socket connected to dst in the calling thread's network namespace.
func Dial(dst netip.AddrPort) (*Sender, error) {
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	addr := dst.Addr().Unmap()
	if addr.Is4() {
		sa = &unix.SockaddrInet4{Port: int(dst.Port()), Addr: addr.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(dst.Port()), Addr: addr.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("loadgen: socket: %w", err)
	}
	// Best effort: without privileges the default buffer still works, only slower.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sendBuffer); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sendBuffer)
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("loadgen: connect %s: %w", dst, err)
	}
	return &Sender{fd: fd, dst: dst}, nil
}

// Close closes the socket.
func (s *Sender) Close() error {
	if err := unix.Close(s.fd); err != nil {
		return fmt.Errorf("loadgen: close: %w", err)
	}
	return nil
}

// Send sends cfg.Count datagrams, stopping early (with ctx.Err()) when ctx ends.
// The returned Result is valid also when err is not nil.
func (s *Sender) Send(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Count <= 0 {
		return Result{}, fmt.Errorf("loadgen: count %d must be positive", cfg.Count)
	}
	if cfg.Size < SeqLen || cfg.Size > 65507 {
		return Result{}, fmt.Errorf("loadgen: size %d outside [%d, 65507]", cfg.Size, SeqLen)
	}
	if cfg.Rate < 0 {
		return Result{}, fmt.Errorf("loadgen: negative rate %v", cfg.Rate)
	}
	batch := cfg.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	if cfg.Rate > 0 {
		// About one call per millisecond, so the pacing stays smooth at moderate rates.
		batch = max(1, min(batch, int(cfg.Rate/1000)))
	}
	batch = min(batch, cfg.Count)
	m := newMsgs(batch, cfg.Size)

	var res Result
	start := time.Now()
	stopped := func(err error) (Result, error) {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("loadgen: stopped after %d of %d datagrams: %w", res.Sent, cfg.Count, err)
	}
	for res.Sent < cfg.Count {
		if err := ctx.Err(); err != nil {
			return stopped(err)
		}
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(res.Sent) / cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		n := min(batch, cfg.Count-res.Sent)
		for i := range n {
			PutSeq(m.payload(i), cfg.FirstSeq+uint64(res.Sent+i))
		}
		// A partial send leaves msgs[k:n] with the right sequence numbers; resend those.
		for k := 0; k < n; {
			sent, err := m.send(s.fd, k, n-k)
			if err != nil {
				if retryable(err) {
					res.Retries++
					// Give the receive path a moment to free buffers; spinning only burns the CPU it needs.
					runtime.Gosched()
					if err := ctx.Err(); err != nil {
						res.Sent += k
						return stopped(err)
					}
					continue
				}
				res.Sent += k
				return stopped(fmt.Errorf("sendmmsg to %s: %w", s.dst, err))
			}
			res.Calls++
			k += sent
		}
		res.Sent += n
	}
	res.Duration = time.Since(start)
	return res, nil
}

// retryable errors mean the datagram was not sent but a retry can succeed:
// buffer pressure, or an ICMP error from an earlier datagram reported on this send.
func retryable(err error) bool {
	return errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) ||
		errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNREFUSED)
}

// msgs is the sendmmsg vector, built once: one payload buffer, iovec and header
// per message, so the send loop only rewrites sequence numbers.
type msgs struct {
	size int
	buf  []byte
	iovs []unix.Iovec
	hdrs []unix.Mmsghdr
}

func newMsgs(n, size int) *msgs {
	m := &msgs{
		size: size,
		buf:  make([]byte, n*size),
		iovs: make([]unix.Iovec, n),
		hdrs: make([]unix.Mmsghdr, n),
	}
	for i := range n {
		p := m.payload(i)
		Fill(p)
		m.iovs[i].Base = &p[0]
		m.iovs[i].SetLen(size)
		m.hdrs[i].Hdr.Iov = &m.iovs[i]
		m.hdrs[i].Hdr.SetIovlen(1)
	}
	return m
}

func (m *msgs) payload(i int) []byte { return m.buf[i*m.size : (i+1)*m.size] }

// send sends hdrs[off:off+n] and returns how many the kernel took.
// x/sys/unix has no Sendmmsg wrapper, hence the raw syscall.
func (m *msgs) send(fd, off, n int) (int, error) {
	r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&m.hdrs[off])), uintptr(n), 0, 0, 0)
	// The headers point at iovecs and buffers the kernel read during the call.
	runtime.KeepAlive(m)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
