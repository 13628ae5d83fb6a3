package e2e_test

// Helpers of the reliability and security tests (issue 6). Every identifier
// starts with "rel" so these files cannot clash with other e2e tests.

import (
	"bufio"
	"context"
	relbin "encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// relStormPort is the UDP port the storm rules log and then drop: dropped
// on input, the flood's connected sender sees no ICMP errors and no socket
// has to read it.
const relStormPort = 7100

// relStormRuleset logs UDP to relStormPort with prefix "storm" to group
// 5000, counting every packet the rule logs in the named counter "logged",
// then drops it.
const relStormRuleset = `
table inet rel {
	counter logged {}
	chain in {
		type filter hook input priority 0;
		udp dport 7100 counter name "logged" log prefix "storm" group 5000 drop
	}
}`

// relCounter reads the packets of named counter name of table inet rel.
func relCounter(t *testing.T, ns *netns.NS, name string) uint64 {
	t.Helper()
	out, err := ns.Output("nft", "list", "counter", "inet", "rel", name)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`packets (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no packet count in nft's counter %s:\n%s", name, out)
	}
	n, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return n
}

// relExit is the statistics nflogcap prints on stderr at exit.
type relExit struct {
	captured, lost, enobufs, overflow uint64
	rcvbuf                            string // as printed: "62.5 KiB"
	pending                           bool   // "(and an unknown number after the last packet ...)"
}

// relParseExit reads the last statistics printed on stderr.
func relParseExit(t *testing.T, stderr string) relExit {
	t.Helper()
	var e relExit
	num := func(re string) (uint64, bool) {
		all := regexp.MustCompile(`(?m)^(\d+) `+re).FindAllStringSubmatch(stderr, -1)
		if all == nil {
			return 0, false
		}
		n, _ := strconv.ParseUint(all[len(all)-1][1], 10, 64)
		return n, true
	}
	var ok1, ok2, ok3 bool
	e.captured, ok1 = num(`packets captured$`)
	e.lost, ok2 = num(`packets lost`)
	e.enobufs, ok3 = num(`ENOBUFS events$`)
	e.overflow, _ = num(`packets written to the overflow interface`)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("no exit statistics on stderr:\n%s", relTail(stderr))
	}
	if all := regexp.MustCompile(`(?m)^receive buffer (.+)$`).FindAllStringSubmatch(stderr, -1); all != nil {
		e.rcvbuf = all[len(all)-1][1]
	}
	// Only the last statistics count: a SIGUSR1 report during a storm
	// rightly says more losses may be pending.
	if all := regexp.MustCompile(`(?m)^\d+ packets lost.*$`).FindAllString(stderr, -1); all != nil {
		e.pending = strings.Contains(all[len(all)-1], "unknown number after the last packet")
	}
	return e
}

// relTail is the end of a long stderr, for failure messages.
func relTail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// relFile is what relReadPcapng finds in a pcapng file, walking its blocks.
type relFile struct {
	packets  uint64   // enhanced packet blocks
	drops    uint64   // sum of epb_dropcount
	isbDrop  uint64   // sum of isb_ifdrop over all ISBs
	isbDeliv uint64   // sum of isb_usrdeliv over all ISBs
	isbs     int      // interface statistics blocks
	ifaces   []string // if_name of each interface, in order
	strs     []string // every comment, if_name and if_description, raw
	sections int
}

// relReadPcapng walks every block of a pcapng file (any byte order, any
// number of sections) and sums the drop counts of packets and statistics
// blocks. It fails the test on a malformed block.
func relReadPcapng(t *testing.T, path string) relFile {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 1<<20)
	var f relFile
	var bo relbin.ByteOrder = relbin.LittleEndian
	var blk []byte
	for off := int64(0); ; {
		hdr, err := r.Peek(12)
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			return f
		}
		if len(hdr) < 12 {
			t.Fatalf("%s: %d trailing bytes at %d", path, len(hdr), off)
		}
		if relbin.LittleEndian.Uint32(hdr) == 0x0A0D0D0A {
			switch relbin.LittleEndian.Uint32(hdr[8:]) {
			case 0x1A2B3C4D:
				bo = relbin.LittleEndian
			case 0x4D3C2B1A:
				bo = relbin.BigEndian
			default:
				t.Fatalf("%s: bad byte-order magic at %d", path, off)
			}
			f.sections++
		}
		typ, n := bo.Uint32(hdr), int(bo.Uint32(hdr[4:]))
		if n < 12 || n%4 != 0 || n > 1<<24 {
			t.Fatalf("%s: bad block (type %d, length %d) at %d", path, typ, n, off)
		}
		if cap(blk) < n {
			blk = make([]byte, n)
		}
		blk = blk[:n]
		if _, err := io.ReadFull(r, blk); err != nil {
			t.Fatalf("%s: block (type %d, length %d) at %d cut short: %v", path, typ, n, off, err)
		}
		if bo.Uint32(blk[n-4:]) != uint32(n) {
			t.Fatalf("%s: block (type %d, length %d) at %d: trailing length %d", path, typ, n, off, bo.Uint32(blk[n-4:]))
		}
		body := blk[:n-4]
		opts := func(at int, fn func(code uint16, v []byte)) {
			for o := at; o+4 <= len(body); {
				code, l := bo.Uint16(body[o:]), int(bo.Uint16(body[o+2:]))
				if code == 0 {
					return
				}
				if o+4+l > len(body) {
					t.Fatalf("%s: option %d of block type %d at %d overruns its block", path, code, typ, off)
				}
				fn(code, body[o+4:o+4+l])
				o += 4 + (l+3)&^3
			}
		}
		switch typ {
		case 1: // IDB
			name := ""
			opts(16, func(code uint16, v []byte) {
				if code == 2 {
					name = string(v)
				}
				if code <= 3 {
					f.strs = append(f.strs, string(v))
				}
			})
			f.ifaces = append(f.ifaces, name)
		case 5: // ISB
			f.isbs++
			opts(20, func(code uint16, v []byte) {
				switch code {
				case 5:
					f.isbDrop += bo.Uint64(v)
				case 8:
					f.isbDeliv += bo.Uint64(v)
				}
			})
		case 6: // EPB
			f.packets++
			capLen := int(bo.Uint32(body[20:]))
			opts(28+(capLen+3)&^3, func(code uint16, v []byte) {
				switch code {
				case 1:
					if len(f.strs) < 100000 { // enough to check; a storm file has more
						f.strs = append(f.strs, string(v))
					}
				case 4:
					f.drops += bo.Uint64(v)
				}
			})
		}
		off += int64(n)
	}
}

// relValid checks that the whole file is complete pcapng blocks.
func relValid(t *testing.T, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	valid, err := pcapng.ValidPrefix(fh, st.Size())
	if err != nil || valid != st.Size() {
		t.Fatalf("%s: %d bytes, valid prefix %d (%v)", path, st.Size(), valid, err)
	}
}

// relTsharkDrops counts packets and sums frame.drop_count as tshark reads
// them (its io,stat summary; dissecting no further than the frame keeps it
// quick on a storm's half million packets).
func relTsharkDrops(t *testing.T, path string) (packets, drops uint64) {
	t.Helper()
	out := tshark(t, "-r", path, "-q", "--disable-protocol", "ip", "--disable-protocol", "ipv6", "--disable-protocol", "raw",
		"-z", "io,stat,0,COUNT(frame)frame,SUM(frame.drop_count)frame.drop_count")
	m := regexp.MustCompile(`(?m)^\|\s*[\d.]+\s*<>\s*[\d.]+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tshark io,stat of %s: no totals in\n%s", path, out)
	}
	packets, _ = strconv.ParseUint(m[1], 10, 64)
	drops, _ = strconv.ParseUint(m[2], 10, 64)
	return packets, drops
}

// relFlood sends size-byte datagrams to dst from inside ns for about d, at
// rate packets per second (0: as fast as one core allows).
func relFlood(t *testing.T, ns *netns.NS, dst string, d time.Duration, size int, rate float64) loadgen.Result {
	t.Helper()
	var s *loadgen.Sender
	if err := ns.Do(func() error {
		var err error
		s, err = loadgen.Dial(netip.MustParseAddrPort(dst))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res, err := s.Send(ctx, loadgen.Config{Count: 1 << 40, Size: size, Rate: rate})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flood: %v (sent %d)", err, res.Sent)
	}
	return res
}

// relSentinels sends n datagrams to dst slowly, each in a kernel batch of
// its own: after a storm they are received for sure, so the sequence gap
// before the first of them reveals every packet lost at the end of the
// storm.
func relSentinels(t *testing.T, ns *netns.NS, dst string, n int) {
	t.Helper()
	s := newUDPSender(t, ns, "udp4")
	for i := range n {
		time.Sleep(100 * time.Millisecond)
		s.send(t, dst, 900000+i, 1, 64)
	}
	time.Sleep(300 * time.Millisecond)
}

// relManifest reads MANIFEST.jsonl in dir.
func relManifest(t *testing.T, dir string) []rotate.Entry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, rotate.ManifestIndex))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []rotate.Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e rotate.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("MANIFEST.jsonl line %q: %v", sc.Text(), err)
		}
		es = append(es, e)
	}
	return es
}

// relPcapngFiles lists the finished capture files of base in dir (no
// .part files, no manifests).
func relPcapngFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, base+"_*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// relCheckNoPanic fails when stderr shows a Go panic or stack trace.
func relCheckNoPanic(t *testing.T, stderr string) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "fatal error:", "[signal "} {
		if strings.Contains(stderr, s) {
			t.Fatalf("stderr shows %q:\n%s", s, relTail(stderr))
		}
	}
}

// relStop sends SIGINT and fails when nflogcap is not gone within bound (a
// hang, not a speed limit) or exits non-zero.
func relStop(t *testing.T, p *proc, bound time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	p.cmd.Process.Signal(os.Interrupt)
	code := p.wait(t, bound)
	took := time.Since(began)
	if code != 0 {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, relTail(p.stderr.String()))
	}
	relCheckNoPanic(t, p.stderr.String())
	return took
}
