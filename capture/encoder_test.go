package capture

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

var update = flag.Bool("update", false, "rewrite testdata/capture golden files")

// fakeNames stands in for the namespace's interfaces in unit tests.
type fakeNames map[uint32]string

func (f fakeNames) lookup(idx uint32) (string, bool) {
	n, ok := f[idx]
	return n, ok
}

func (f fakeNames) generation() uint64 { return 0 }

var testNames = fakeNames{1: "lo", 2: "vA", 3: "br0"}

// fixtureEvents parses the recorded kernel datagrams of testdata/nflog, in a
// fixed order, and adds an event with a hostile prefix and a sequence gap.
func fixtureEvents(t testing.TB) []nflog.Event {
	t.Helper()
	recv := time.Unix(1764786000, 123456789)
	var evs []nflog.Event
	for _, name := range []string{"ipv4-input-seq", "ipv6-output-mark", "batch-5", "meta", "snaplen-40", "arp", "bridge", "netdev", "netdev-vlan", "inet"} {
		b, err := os.ReadFile(filepath.Join("../testdata/nflog", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := nflog.ParseDatagram(b, recv, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		evs = append(evs, parsed...)
	}
	evil := evs[0]
	evil.Prefix = []byte("evil\x1b[31m\xff\n")
	evil.LostBefore = 7
	evil.Seq = 8
	return append(evs, evil)
}

var fixedClock = func() time.Time { return time.Unix(1764786100, 0) }

// encodeAll writes events with the given link type and returns the file.
func encodeAll(t testing.TB, evs []nflog.Event, lt pcapng.LinkType, maxIfaces int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf, &pcapng.WriterOptions{Application: "nflogcap test", OS: "Linux 6.18", Hardware: "x86_64", Clock: fixedClock})
	cfg := &encoderConfig{linkType: lt, comments: true, maxInterfaces: maxIfaces, copyMode: nflog.CopyPacket, names: testNames, os: "Linux 6.18"}
	e := newEncoder(cfg, w)
	for i := range evs {
		if err := e.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var goldenLinkTypes = map[string]pcapng.LinkType{
	"raw.pcapng":   pcapng.LinkTypeRaw,
	"nflog.pcapng": pcapng.LinkTypeNFLOG,
	"sll2.pcapng":  pcapng.LinkTypeLinuxSLL2,
}

// The same recorded kernel events, written with each link type, must give
// the golden files byte for byte.
func TestEncoderGolden(t *testing.T) {
	if !littleEndian() {
		t.Skip("golden files are little endian")
	}
	evs := fixtureEvents(t)
	for name, lt := range goldenLinkTypes {
		t.Run(name, func(t *testing.T) {
			got := encodeAll(t, evs, lt, DefaultMaxInterfaces)
			path := filepath.Join("../testdata/capture", name)
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (%d vs %d bytes); rerun with -update if the change is intended", name, len(got), len(want))
			}
			if n, err := pcapng.ValidPrefix(bytes.NewReader(got), int64(len(got))); err != nil || n != int64(len(got)) {
				t.Errorf("valid prefix %d of %d bytes: %v", n, len(got), err)
			}
		})
	}
}

func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

func TestEncoderZeroAllocs(t *testing.T) {
	evs := fixtureEvents(t)
	w := pcapng.NewWriter(discard{}, nil)
	e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: true, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: testNames}, w)
	for i := range evs { // describe every interface once
		if err := e.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		for i := range evs {
			if err := e.write(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
	})
	if allocs != 0 {
		t.Fatalf("encoding %d events allocated %v times, want 0", len(evs), allocs)
	}
}

// Past the interface cap, packets share one overflow interface per link
// type and carry their prefix in the comment.
func TestEncoderInterfaceCap(t *testing.T) {
	evs := fixtureEvents(t)
	var many []nflog.Event
	for i := range 50 {
		ev := evs[0]
		ev.Prefix = []byte{'p', byte('0' + i/10), byte('0' + i%10)}
		many = append(many, ev)
	}
	out := encodeAll(t, many, pcapng.LinkTypeRaw, 10)
	r := newBlockLister(t, out)
	if r.interfaces != 11 {
		t.Errorf("%d interfaces, want 10 and one overflow", r.interfaces)
	}
	if !bytes.Contains(out, []byte("nflog:overflow")) || !bytes.Contains(out, []byte("prefix=p49")) {
		t.Error("no overflow interface, or its packets do not name their prefix")
	}
}

// Whatever the kernel sends as prefix, payload and metadata, the file parses
// back: interface names are valid UTF-8 without control characters, and the
// packet bytes are the payload.
func FuzzEncoder(f *testing.F) {
	f.Add([]byte("ssh-drop"), []byte{0x45, 0, 0, 20}, uint8(1), uint32(0x2a), uint64(0))
	f.Add([]byte("evil\x1b[31m\xff\n"), []byte{0x60, 0, 0, 0, 0, 0, 17, 64}, uint8(3), uint32(0), uint64(5))
	f.Add([]byte{}, []byte{}, uint8(9), uint32(1), uint64(1<<40))
	base := fixtureEvents(f)[0]
	f.Fuzz(func(t *testing.T, prefix, payload []byte, hook uint8, mark uint32, lost uint64) {
		if len(prefix) > 1000 || len(payload) > 70000 {
			return
		}
		ev := base
		ev.Prefix, ev.Payload, ev.Hook, ev.Mark, ev.LostBefore = prefix, payload, hook, mark, lost
		out := encodeAll(t, []nflog.Event{ev}, pcapng.LinkTypeRaw, DefaultMaxInterfaces)
		if n, err := pcapng.ValidPrefix(bytes.NewReader(out), int64(len(out))); err != nil || n != int64(len(out)) {
			t.Fatalf("output not valid pcapng: %d of %d bytes, %v", n, len(out), err)
		}
		l := newBlockLister(t, out)
		if l.interfaces != 1 || len(l.packets) != 1 {
			t.Fatalf("%d interfaces, %d packets", l.interfaces, len(l.packets))
		}
		for _, s := range append(l.strings, string(l.comments[0])) {
			if !utf8.ValidString(s) {
				t.Fatalf("string option %q is not UTF-8", s)
			}
			for _, r := range s {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("string option %q has a control character", s)
				}
			}
		}
		want := payload
		if rawCarries(&ev) {
			if !bytes.Equal(l.packets[0], want) {
				t.Fatalf("packet bytes differ from the payload")
			}
		} else if !bytes.Equal(l.packets[0][sll2HeaderLen:], want) {
			t.Fatalf("SLL2 packet does not end with the payload")
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// renamingNames is a namer whose names change, as ifNames' do after a rename.
type renamingNames struct {
	names fakeNames
	gen   uint64
}

func (r *renamingNames) lookup(idx uint32) (string, bool) { return r.names.lookup(idx) }
func (r *renamingNames) generation() uint64               { return r.gen }

// The comment head is reused along a flow but rebuilt when names change.
func TestEncoderCommentFollowsRename(t *testing.T) {
	ev := fixtureEvents(t)[0] // input on interface 1
	names := &renamingNames{names: fakeNames{1: "lo"}}
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf, nil)
	e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: true, maxInterfaces: 10, copyMode: nflog.CopyPacket, names: names}, w)
	comments := []string{}
	for _, name := range []string{"lo", "lo", "renamed"} {
		names.names[1] = name
		if name == "renamed" {
			names.gen++
		}
		if err := e.write(&ev); err != nil {
			t.Fatal(err)
		}
		comments = append(comments, string(e.comment))
	}
	w.Close()
	want := []string{"hook=input in=lo out= seq=0 seqglobal=1", "hook=input in=lo out= seq=0 seqglobal=1", "hook=input in=renamed out= seq=0 seqglobal=1"}
	for i := range want {
		if comments[i] != want[i] {
			t.Errorf("packet %d: comment %q, want %q", i, comments[i], want[i])
		}
	}
}
