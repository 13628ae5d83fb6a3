package e2e_test

// Helpers of the live-feed, signal and command-line tests (issue 7). Every
// identifier starts with "live" or "cli" so these files cannot clash with
// other e2e tests.

import (
	"bytes"
	"context"
	livebin "encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// liveRuleset logs UDP to 7001 on input as "web-in" and UDP to 7002 on
// output as "dns-out" to group 5000, and UDP to 7011 (input) as "x" and 7012
// (output) as "y" to group 5001.
const liveRuleset = `
table inet live {
	chain in {
		type filter hook input priority 0;
		udp dport 7001 log prefix "web-in" group 5000
		udp dport 7011 log prefix "x" group 5001
	}
	chain out {
		type filter hook output priority 0;
		udp dport 7002 log prefix "dns-out" group 5000
		udp dport 7012 log prefix "y" group 5001
	}
}`

// liveNS is a fresh namespace with liveRuleset loaded; tools are also
// required on PATH.
func liveNS(t *testing.T, tools ...string) *netns.NS {
	t.Helper()
	ns := nstest.New(t, tools...)
	if err := ns.Nft(liveRuleset); err != nil {
		t.Fatal(err)
	}
	return ns
}

// liveStart runs nflogcap like start, with extra environment variables and,
// when stdout is not nil, that file as its standard output.
func liveStart(t *testing.T, env []string, stdout *os.File, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Env = append(liveCleanEnv(), env...)
	p.cmd.Stderr = &p.stderr
	if stdout != nil {
		p.cmd.Stdout = stdout
	} else {
		p.cmd.Stdout = &p.stdout
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// liveCleanEnv is the test's environment without NFLOGCAP_ variables, so
// nothing configures nflogcap by accident.
func liveCleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NFLOGCAP_") {
			env = append(env, kv)
		}
	}
	return env
}

// liveRun runs nflogcap to completion with extra environment variables and
// returns its exit status, standard output and standard error.
func liveRun(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(liveCleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nflogcap %v: timed out", args)
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("nflogcap %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// liveRunning reports whether p has not exited.
func liveRunning(p *proc) bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// liveWaitStderr waits until p's standard error contains want n times.
func liveWaitStderr(t *testing.T, p *proc, want string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(p.stderr.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q on stderr after %v:\n%s", n, want, timeout, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveStop sends sig, checks a clean exit (status 0) and returns the time
// the exit took.
func liveStop(t *testing.T, p *proc, sig syscall.Signal) time.Duration {
	t.Helper()
	t0 := time.Now()
	if code := p.stop(t, sig); code != 0 {
		t.Fatalf("exit %d after %v; stderr:\n%s", code, sig, p.stderr.String())
	}
	return time.Since(t0)
}

// liveStatsLines checks the tcpdump-style statistics lines.
func liveStatsLines(t *testing.T, stderr string, captured int) {
	t.Helper()
	for _, want := range []string{
		strconv.Itoa(captured) + " packets captured\n",
		"\n0 packets lost\n",
		"\n0 ENOBUFS events\n",
		"\nreceive buffer 32 MiB\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("statistics lack %q:\n%s", strings.TrimSpace(want), stderr)
		}
	}
}

// liveMkfifo makes a FIFO in the test's temporary directory.
func liveMkfifo(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// liveSender sends numbered datagrams (payload(i, size)) from inside a
// namespace and remembers when each left.
type liveSender struct {
	conn *net.UDPConn
	mu   sync.Mutex
	sent map[int]time.Time
}

func newLiveSender(t *testing.T, ns *netns.NS, network string) *liveSender {
	t.Helper()
	return &liveSender{conn: newUDPSender(t, ns, network).conn, sent: map[int]time.Time{}}
}

// send sends datagram i to addr and returns the time just before the send.
func (s *liveSender) send(t *testing.T, addr string, i, size int) time.Time {
	t.Helper()
	ua := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr))
	p := payload(i, size)
	t0 := time.Now()
	if _, err := s.conn.WriteToUDP(p, ua); err != nil {
		t.Fatalf("send %d to %s: %v", i, addr, err)
	}
	s.mu.Lock()
	s.sent[i] = t0
	s.mu.Unlock()
	return t0
}

// livePacket is an Enhanced Packet Block seen by liveReader.
type livePacket struct {
	iface   string
	seq     int // the datagram's number (payload's first 8 digits), -1 if none
	capLen  int
	origLen int
	data    []byte
	at      time.Time // when the read that completed the block returned
}

// liveReader is a plain reader of a pcapng stream: it parses blocks as bytes
// arrive and timestamps each packet block when the read that completes it
// returns. It knows nothing of nflogcap or tshark.
type liveReader struct {
	mu      sync.Mutex
	raw     []byte // the whole stream, for tshark afterwards
	packets []livePacket
	bySeq   map[int]livePacket
	types   []uint32 // block types in stream order
	ifaces  []string // if_name per interface of the current section
	err     error    // a malformed stream
	notify  chan struct{}
	done    chan struct{} // closed at end of stream
	opened  chan struct{} // closed once the FIFO is open
	fmu     sync.Mutex
	file    *os.File // the FIFO, once open
}

// newLiveReader opens path for reading in the background (a FIFO's open
// blocks until a writer comes) and reads until the end of the stream. The
// test's end unblocks an open that is still waiting and closes the file.
func newLiveReader(t *testing.T, path string) *liveReader {
	r := &liveReader{bySeq: map[int]livePacket{}, notify: make(chan struct{}, 1), done: make(chan struct{}), opened: make(chan struct{})}
	go func() {
		defer close(r.done)
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			r.fail(err)
			return
		}
		r.fmu.Lock()
		r.file = f
		r.fmu.Unlock()
		close(r.opened)
		r.read(f)
	}()
	t.Cleanup(func() {
		select {
		case <-r.opened:
		default:
			// Still waiting for a writer: be one for a moment.
			if fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				unix.Close(fd)
			}
		}
		r.close()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("FIFO reader of %s did not end", path)
		}
	})
	return r
}

// close closes the reader's end of the FIFO, as a reader that goes away.
func (r *liveReader) close() {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if r.file != nil {
		r.file.Close()
	}
}

// newLiveReaderFrom reads a stream that is already open (a pipe).
func newLiveReaderFrom(rd io.Reader) *liveReader {
	r := &liveReader{bySeq: map[int]livePacket{}, notify: make(chan struct{}, 1), done: make(chan struct{}), opened: make(chan struct{})}
	close(r.opened)
	go func() {
		defer close(r.done)
		r.read(rd)
	}()
	return r
}

func (r *liveReader) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *liveReader) read(rd io.Reader) {
	buf := make([]byte, 256<<10)
	var pending []byte
	for {
		n, err := rd.Read(buf)
		at := time.Now()
		if n > 0 {
			pending = append(pending, buf[:n]...)
			r.mu.Lock()
			r.raw = append(r.raw, buf[:n]...)
			r.mu.Unlock()
			used, perr := r.parse(pending, at)
			pending = pending[used:]
			if perr != nil {
				r.fail(perr)
				return
			}
			select {
			case r.notify <- struct{}{}:
			default:
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				r.fail(err)
			}
			if len(pending) > 0 {
				r.fail(errors.New("stream ends inside a block: " + strconv.Itoa(len(pending)) + " bytes left"))
			}
			return
		}
	}
}

// parse consumes the complete blocks at the start of b and returns how many
// bytes they took.
func (r *liveReader) parse(b []byte, at time.Time) (int, error) {
	bo := livebin.ByteOrder(livebin.LittleEndian)
	off := 0
	for len(b)-off >= 12 {
		if livebin.LittleEndian.Uint32(b[off:]) == 0x0A0D0D0A {
			switch livebin.LittleEndian.Uint32(b[off+8:]) {
			case 0x1A2B3C4D:
			case 0x4D3C2B1A:
				bo = livebin.BigEndian
			default:
				return off, errors.New("bad byte-order magic")
			}
		}
		typ, n := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 {
			return off, errors.New("bad block length " + strconv.Itoa(n))
		}
		if len(b)-off < n {
			break
		}
		if bo.Uint32(b[off+n-4:]) != uint32(n) {
			return off, errors.New("block lengths differ")
		}
		body := b[off+8 : off+n-4]
		r.mu.Lock()
		r.types = append(r.types, typ)
		switch typ {
		case 0x0A0D0D0A:
			r.ifaces = nil
		case 1: // IDB: link type, reserved, snaplen, options
			name := ""
			for o := 8; o+4 <= len(body); {
				code, l := bo.Uint16(body[o:]), int(bo.Uint16(body[o+2:]))
				if code == 0 || o+4+l > len(body) {
					break
				}
				if code == 2 {
					name = string(body[o+4 : o+4+l])
				}
				o += 4 + (l+3)&^3
			}
			r.ifaces = append(r.ifaces, name)
		case 6: // EPB
			if len(body) < 20 {
				r.mu.Unlock()
				return off, errors.New("short packet block")
			}
			id := int(bo.Uint32(body))
			p := livePacket{capLen: int(bo.Uint32(body[12:])), origLen: int(bo.Uint32(body[16:])), at: at, seq: -1}
			if 20+p.capLen > len(body) || id >= len(r.ifaces) {
				r.mu.Unlock()
				return off, errors.New("packet block overruns, or names an undescribed interface")
			}
			p.iface = r.ifaces[id]
			p.data = bytes.Clone(body[20 : 20+p.capLen])
			p.seq = liveSeqOf(p.data)
			r.packets = append(r.packets, p)
			if p.seq >= 0 {
				if _, dup := r.bySeq[p.seq]; !dup {
					r.bySeq[p.seq] = p
				}
			}
		}
		r.mu.Unlock()
		off += n
	}
	return off, nil
}

// liveSeqOf finds the datagram number in a raw IPv4 or IPv6 UDP packet.
func liveSeqOf(ip []byte) int {
	var udp []byte
	switch {
	case len(ip) >= 20 && ip[0]>>4 == 4 && ip[9] == 17:
		udp = ip[int(ip[0]&0xf)*4:]
	case len(ip) >= 40 && ip[0]>>4 == 6 && ip[6] == 17:
		udp = ip[40:]
	default:
		return -1
	}
	if len(udp) < 16 {
		return -1
	}
	n, err := strconv.Atoi(string(udp[8:16]))
	if err != nil {
		return -1
	}
	return n
}

// waitFor waits until cond holds (checked under the reader's lock) or the
// stream ends or timeout passes; it reports whether cond held.
func (r *liveReader) waitFor(timeout time.Duration, cond func(r *liveReader) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-r.notify:
		case <-r.done:
			r.mu.Lock()
			ok := cond(r)
			r.mu.Unlock()
			return ok
		case <-deadline.C:
			return false
		}
	}
}

// arrival returns when packet seq arrived.
func (r *liveReader) arrival(seq int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.bySeq[seq]
	return p.at, ok
}

// finish waits for the end of the stream and checks that it is whole: a
// section header first, complete blocks only, the statistics blocks last.
// It returns the stream's bytes.
func (r *liveReader) finish(t *testing.T, timeout time.Duration) []byte {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("the stream did not end within %v of nflogcap's exit", timeout)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		t.Fatalf("pcapng stream: %v", r.err)
	}
	if len(r.types) == 0 || r.types[0] != 0x0A0D0D0A {
		t.Fatalf("stream does not start with a section header block: %v", r.types)
	}
	if last := r.types[len(r.types)-1]; last != 5 {
		t.Errorf("stream does not end with an interface statistics block (last block type %d)", last)
	}
	return slices.Clone(r.raw)
}

// liveTsharkIfaces has tshark read a pcapng stream saved to a file and returns
// the interface name of each packet.
func liveTsharkIfaces(t *testing.T, file string) []string {
	t.Helper()
	var names []string
	for _, row := range tsharkFields(t, file, "frame.interface_name") {
		names = append(names, row[0])
	}
	return names
}

// livePercentile is the p-th percentile (nearest rank) of sorted d.
func livePercentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}
