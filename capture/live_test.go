package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// liveTestOutput is a live view already connected to the write end of a
// pipe (os.Pipe's ends are in the runtime's poller, as the FIFO's is), without
// the goroutine that looks for readers.
func liveTestOutput(t *testing.T, stderr io.Writer) (*liveOutput, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := &encoderConfig{linkType: pcapng.LinkTypeRaw, comments: true, maxInterfaces: 16,
		copyMode: nflog.CopyPacket, names: testNames, os: "Linux"}
	l := &liveOutput{path: "test.fifo", cfg: cfg, app: "nflogcap test", stderr: stderr,
		conns: make(chan *os.File, 1), redial: make(chan struct{}, 1), stop: make(chan struct{}),
		groups: []liveGroup{{group: 5000, iface: -1}}}
	l.conns <- w // the reader is there from the first batch on
	return l, r
}

// liveIPv4 is an IPv4 UDP packet of n bytes.
func liveIPv4(n int) []byte {
	p := make([]byte, n)
	p[0], p[8], p[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	return p
}

// liveEvent is packet seq of group 5000, prefix "web", of size bytes.
func liveEvent(t *testing.T, seq uint32, size int, lostBefore uint64) nflog.Event {
	t.Helper()
	ev := fixtureEvents(t)[0]
	ev.Group, ev.Prefix, ev.Seq, ev.LostBefore = 5000, []byte("web"), seq, lostBefore
	ev.Payload = liveIPv4(size)
	return ev
}

// liveDrain reads r to its end in the background once started.
type liveDrain struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func startLiveDrain(r io.Reader) *liveDrain {
	d := &liveDrain{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		b := make([]byte, 64<<10)
		for {
			n, err := r.Read(b)
			d.mu.Lock()
			d.buf.Write(b[:n])
			d.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return d
}

func (d *liveDrain) wait(t *testing.T) []byte {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the live stream did not end")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.buf.Bytes())
}

// liveEPB and liveISB are what liveParse finds in a stream written on this
// host: per packet its id (the sequence number) and drop count, per
// interface its isb_ifdrop and isb_usrdeliv.
type liveEPB struct {
	iface             int
	packetID, dropCnt uint64
	hasDrop           bool
}

type liveISB struct {
	iface            int
	ifDrop, usrDeliv uint64
}

// liveParse walks a pcapng section block by block, from the specification.
func liveParse(t *testing.T, b []byte) (epbs []liveEPB, isbs []liveISB) {
	t.Helper()
	le := binary.NativeEndian
	options := func(opts []byte, f func(code uint16, v []byte)) {
		for len(opts) >= 4 {
			code, n := le.Uint16(opts), int(le.Uint16(opts[2:]))
			if code == 0 {
				return
			}
			if 4+n > len(opts) {
				t.Fatalf("option %d overruns its block", code)
			}
			f(code, opts[4:4+n])
			opts = opts[min(len(opts), 4+(n+3)&^3):]
		}
	}
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("torn block at %d of %d", off, len(b))
		}
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 || off+n > len(b) || int(le.Uint32(b[off+n-4:])) != n {
			t.Fatalf("bad block at %d", off)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case 6:
			p := liveEPB{iface: int(le.Uint32(body))}
			capLen := int(le.Uint32(body[12:]))
			options(body[20+(capLen+3)&^3:], func(code uint16, v []byte) {
				switch code {
				case 4:
					p.dropCnt, p.hasDrop = le.Uint64(v), true
				case 5:
					p.packetID = le.Uint64(v)
				}
			})
			epbs = append(epbs, p)
		case 5:
			s := liveISB{iface: int(le.Uint32(body))}
			options(body[12:], func(code uint16, v []byte) {
				switch code {
				case 5:
					s.ifDrop = le.Uint64(v)
				case 8:
					s.usrDeliv = le.Uint64(v)
				}
			})
			isbs = append(isbs, s)
		}
		off += n
	}
	return epbs, isbs
}

// Batches the live view skips while its reader is behind are drops of the
// live stream: the next packet of the group carries them in epb_dropcount
// (with the kernel's losses before the skipped packets), packets skipped
// after the last one written are in the interface's isb_ifdrop, and every
// packet is either in the stream or counted there.
func TestLiveSkippedBatchesAreDrops(t *testing.T) {
	var stderr bytes.Buffer
	l, r := liveTestOutput(t, &stderr)
	const size = 40 << 10 // two fill the pipe's 64 KiB
	seq := uint32(0)
	var (
		written  []uint32              // sequence numbers in the stream, in order
		wantDrop = map[uint32]uint64{} // epb_dropcount each should carry
		owed     uint64                // skipped since the last packet written
		skips    uint64                // packets skipped
	)
	// batch hands the view one packet, the kernel having lost lostBefore
	// before it, and reports whether the view skipped it.
	batch := func(lostBefore uint64) bool {
		t.Helper()
		seq++
		before := l.dropped
		if err := l.writeBatch([]nflog.Event{liveEvent(t, seq, size, lostBefore)}); err != nil {
			t.Fatal(err)
		}
		if l.dropped > before {
			skips++
			owed += 1 + lostBefore
			return true
		}
		written = append(written, seq)
		wantDrop[seq] = owed + lostBefore
		owed = 0
		return false
	}
	// Nobody reads: the pipe fills, the writer goroutine waits in write,
	// the queue fills, and the view starts skipping. Once it has skipped
	// five batches in a row, 20 ms apart, the writer is stuck for good.
	for inARow := 0; inARow < 5; {
		if !batch(0) {
			inARow = 0
			if len(written) > 40 {
				t.Fatal("the live view never skipped a batch although its reader reads nothing")
			}
			continue
		}
		inARow++
		time.Sleep(20 * time.Millisecond)
	}
	if !batch(5) { // the kernel lost 5 before this one: the stream owes 6 more
		t.Fatal("a batch went to a reader that still reads nothing")
	}
	for range 3 {
		if !batch(0) {
			t.Fatal("a batch went to a reader that still reads nothing")
		}
	}

	// The reader catches up; the next packet carries what was skipped.
	drain := startLiveDrain(r)
	for deadline := time.Now().Add(10 * time.Second); l.cur.dw.Backlog() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the queue did not drain although the reader reads")
		}
		time.Sleep(time.Millisecond)
	}
	carrier, carried := seq+1, owed
	if batch(0) {
		t.Fatal("a batch was skipped although the reader has caught up")
	}
	if carried < 5+1+3+5 {
		t.Fatalf("the packet after the reader caught up carries %d, want at least the %d skipped last", carried, 5+1+3+5)
	}
	// Two more skipped after the last packet written: only the ISB can
	// show them.
	seq++
	l.skip([]nflog.Event{liveEvent(t, seq, 64, 0)})
	seq++
	l.skip([]nflog.Event{liveEvent(t, seq, 64, 0)})
	skips += 2

	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	epbs, isbs := liveParse(t, drain.wait(t))
	if len(epbs) != len(written) {
		t.Fatalf("%d packets in the live stream, want the %d written", len(epbs), len(written))
	}
	var sum uint64
	for i, p := range epbs {
		if p.packetID != uint64(written[i]) {
			t.Fatalf("packet %d has id %d, want %d", i, p.packetID, written[i])
		}
		want := wantDrop[written[i]]
		if p.dropCnt != want || p.hasDrop != (want > 0) {
			t.Errorf("packet %d (seq %d): epb_dropcount %d (present %v), want %d", i, p.packetID, p.dropCnt, p.hasDrop, want)
		}
		sum += p.dropCnt
	}
	if got := wantDrop[carrier]; got != carried {
		t.Errorf("packet %d should carry %d, the test expects %d", carrier, carried, got)
	}
	if len(isbs) != 1 {
		t.Fatalf("%d statistics blocks, want 1", len(isbs))
	}
	if got, want := isbs[0].ifDrop, sum+2; got != want {
		t.Errorf("isb_ifdrop %d, want %d (the packets' drop counts %d and the 2 skipped after the last packet)", got, want, sum)
	}
	if got := isbs[0].usrDeliv; got != uint64(len(written)) {
		t.Errorf("isb_usrdeliv %d, want %d", got, len(written))
	}
	// Every packet handed to the view (and the kernel's 5 losses) is in the
	// stream or counted as dropped in it.
	if got, want := uint64(len(epbs))+isbs[0].ifDrop, uint64(seq)+5; got != want {
		t.Errorf("stream accounts for %d packets, want %d", got, want)
	}
	if l.dropped != skips {
		t.Errorf("exit statistics count %d packets not sent to the live view, want %d", l.dropped, skips)
	}
}

// The end of a capture does not wait for a live reader that has the FIFO
// open but reads nothing: close gives up after liveCloseGrace, says the
// live view was cut off, and returns no error.
func TestLiveCloseDoesNotWaitForReader(t *testing.T) {
	var stderr bytes.Buffer
	l, _ := liveTestOutput(t, &stderr)
	for seq := uint32(1); seq < 40 && l.dropped == 0; seq++ {
		if err := l.writeBatch([]nflog.Event{liveEvent(t, seq, 40<<10, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if l.dropped == 0 {
		t.Fatal("the live view's queue never filled")
	}
	done := make(chan error, 1)
	go func() { done <- l.close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("close: %v, want nil: the live view does not fail the capture", err)
		}
	case <-time.After(liveCloseGrace + 8*time.Second):
		t.Fatal("close waits for a live reader that does not read")
	}
	if !strings.Contains(stderr.String(), "live view test.fifo: the reader did not take the end of the stream within 2s; live view cut off") {
		t.Errorf("no message that the live view was cut off:\n%s", stderr.String())
	}
}

// Writing a batch to the live view allocates nothing, also when a packet
// carries skipped packets.
func TestLiveSendZeroAllocs(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := liveTestOutput(t, io.Discard)
	<-l.conns
	l.conns <- null
	var evs []nflog.Event
	for range 4 {
		evs = append(evs, fixtureEvents(t)...)
	}
	for i := range evs {
		evs[i].Group = 5000
	}
	if err := l.writeBatch(evs); err != nil { // connects and describes every interface
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		l.groups[0].skipped = 3
		if err := l.send(evs); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("writing %d events to the live view allocated %v times, want 0", len(evs), allocs)
	}
	l.close()
}
