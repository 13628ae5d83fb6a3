package capture

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

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

// Whatever the kernel sends as prefix, payload and metadata, with any link
// type, the file parses back, in gopacket's pcapgo.NgReader and in the
// strict block lister, with every field where it belongs: the packet bytes,
// its original length, direction, packet id, drop count, the comment, the
// ISB counts, and an interface name that is valid UTF-8 without control
// characters and gives the prefix back when unescaped.
func FuzzEncoder(f *testing.F) {
	// prefix, payload, link type, family, hook, hw protocol, which
	// attributes (fuzzAttr*), mark, uid, gid, seq, lost, snaplen
	f.Add([]byte("ssh-drop"), ipv4Packet(60, 60), uint8(0), uint8(0), uint8(1), uint16(0x0800), uint8(0xff), uint32(0x2a), uint32(0), uint32(0), uint32(3), uint64(0), uint16(0))
	f.Add([]byte("evil\x1b[31m\xff\n/sll2"), ipv6Packet(100, 48), uint8(1), uint8(1), uint8(3), uint16(0x86dd), uint8(0x0e), uint32(0), uint32(1000), uint32(100), uint32(0), uint64(5), uint16(48))
	f.Add([]byte{}, []byte{}, uint8(2), uint8(2), uint8(0), uint16(0x0806), uint8(0), uint32(1), uint32(0), uint32(0), uint32(0), uint64(1<<40), uint16(0))
	f.Add([]byte("a\\b\u2028\u0085"), arpRequest(), uint8(0), uint8(2), uint8(1), uint16(0x0806), uint8(0x11), uint32(7), uint32(0), uint32(0), uint32(9), uint64(0), uint16(0))
	f.Add([]byte("br"), ipv4Packet(1500, 1500), uint8(0), uint8(3), uint8(2), uint16(0x0800), uint8(0x10), uint32(0), uint32(0), uint32(0), uint32(1), uint64(1), uint16(200))
	f.Add([]byte("cut"), ipv4Packet(1500, 1500), uint8(0), uint8(0), uint8(4), uint16(0x0800), uint8(0x08), uint32(0), uint32(0), uint32(0), uint32(2), uint64(0), uint16(96))
	f.Add([]byte("nd"), ipv4Packet(40, 40), uint8(2), uint8(4), uint8(4), uint16(0x0800), uint8(0x1f), uint32(0), uint32(0), uint32(0), uint32(1), uint64(^uint64(0)), uint16(0))
	f.Fuzz(func(t *testing.T, prefix, payload []byte, ltSel, famSel, hook uint8, proto uint16, attrs uint8,
		mark, uid, gid, seq uint32, lost uint64, snap uint16) {
		if len(prefix) > 1000 {
			return
		}
		if i := bytes.IndexByte(prefix, 0); i >= 0 {
			prefix = prefix[:i] // a C string in the kernel
		}
		lt := []pcapng.LinkType{pcapng.LinkTypeRaw, pcapng.LinkTypeNFLOG, pcapng.LinkTypeLinuxSLL2}[ltSel%3]
		fam := []nflog.Family{nflog.FamilyIPv4, nflog.FamilyIPv6, nflog.FamilyARP, nflog.FamilyBridge, nflog.FamilyNetdev}[famSel%5]
		hook %= 8
		// The kernel copies at most the copy range (the snaplen, or
		// MaxSnaplen for whole packets); the interface's snaplen says so.
		snaplen := int(snap)
		if snaplen > nflog.MaxSnaplen {
			snaplen = 0
		}
		payload = payload[:min(len(payload), nflog.MaxSnaplen)]
		if snaplen > 0 {
			payload = payload[:min(len(payload), snaplen)]
		}
		in := nflog.Event{Family: fam, Group: 5000, HWProtocol: proto, Hook: hook, InDev: 1, OutDev: 2, Prefix: prefix, Payload: payload,
			Mark: mark, UID: uid, GID: gid, Seq: seq, Time: time.Unix(1764786000, 1000), LostBefore: lost}
		for bit, a := range []nflog.Attr{fuzzAttrMark: nflog.AttrMark, fuzzAttrUID: nflog.AttrUID, fuzzAttrGID: nflog.AttrGID,
			fuzzAttrSeq: nflog.AttrSeq, fuzzAttrTime: nflog.AttrTimestamp} {
			if attrs&(1<<bit) != 0 {
				in.Present |= a
			}
		}
		ev := kernelEvent(t, in)

		var buf bytes.Buffer
		w := pcapng.NewWriter(&buf, &pcapng.WriterOptions{OS: "Linux", Hardware: "x86_64", Clock: fixedClock})
		cfg := &encoderConfig{linkType: lt, comments: true, maxInterfaces: DefaultMaxInterfaces, copyMode: nflog.CopyPacket, snaplen: snaplen, names: testNames}
		if err := newEncoder(cfg, w).write(&ev); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		if n, err := pcapng.ValidPrefix(bytes.NewReader(out), int64(len(out))); err != nil || n != int64(len(out)) {
			t.Fatalf("output not valid pcapng: %d of %d bytes, %v", n, len(out), err)
		}

		// What the file must hold, worked out from the formats.
		raw := fam == nflog.FamilyIPv4 && len(payload) > 0 && payload[0]>>4 == 4 ||
			fam == nflog.FamilyIPv6 && len(payload) > 0 && payload[0]>>4 == 6
		wantLT, wantData, wantOrig := lt, payload, len(payload)
		ipLen := -1 // length on the wire from the IP header
		switch {
		case len(payload) >= 20 && payload[0]>>4 == 4:
			ipLen = int(binary.BigEndian.Uint16(payload[2:]))
		case len(payload) >= 40 && payload[0]>>4 == 6 && binary.BigEndian.Uint16(payload[4:]) != 0:
			ipLen = 40 + int(binary.BigEndian.Uint16(payload[4:]))
		}
		if lt == pcapng.LinkTypeRaw && !raw {
			wantLT = pcapng.LinkTypeLinuxSLL2
		}
		switch wantLT {
		case pcapng.LinkTypeRaw:
			wantOrig = max(wantOrig, ipLen)
		case pcapng.LinkTypeNFLOG:
			wantData = ev.Raw
			wantOrig = len(ev.Raw)
		case pcapng.LinkTypeLinuxSLL2:
			wantData = append(make([]byte, 20), payload...) // header checked by TestEncoderSLL2Header
			wantOrig += 20
			if proto == 0x0800 || proto == 0x86dd {
				wantOrig = max(wantOrig, 20+ipLen)
			}
		}
		wantSnap := uint32(nflog.MaxSnaplen)
		if snaplen > 0 {
			wantSnap = uint32(snaplen)
		}
		switch wantLT {
		case pcapng.LinkTypeLinuxSLL2:
			wantSnap += 20
		case pcapng.LinkTypeNFLOG:
			wantSnap = 0
		}
		var wantFlags uint32 // 1 inbound, 2 outbound
		var hookName string
		switch fam {
		case nflog.FamilyARP:
			hookName = [...]string{"input", "output", "forward", "unknown", "unknown", "unknown", "unknown", "unknown"}[hook]
			wantFlags = [...]uint32{1, 2, 0, 0, 0, 0, 0, 0}[hook]
		case nflog.FamilyNetdev:
			hookName = [...]string{"ingress", "egress", "unknown", "unknown", "unknown", "unknown", "unknown", "unknown"}[hook]
			wantFlags = [...]uint32{1, 2, 0, 0, 0, 0, 0, 0}[hook]
		default:
			hookName = [...]string{"prerouting", "input", "forward", "output", "postrouting", "unknown", "unknown", "unknown"}[hook]
			wantFlags = [...]uint32{1, 1, 0, 2, 2, 1, 0, 0}[hook]
			if hook == 5 && fam == nflog.FamilyBridge {
				hookName = "brouting"
			}
		}
		wantComment := map[string]string{"hook": hookName, "in": "lo", "out": "vA"}
		for _, f := range []struct {
			bit   int
			key   string
			value string
		}{
			{fuzzAttrMark, "mark", fmt.Sprintf("0x%x", mark)}, {fuzzAttrUID, "uid", fmt.Sprint(uid)},
			{fuzzAttrGID, "gid", fmt.Sprint(gid)},
		} {
			if attrs&(1<<f.bit) != 0 {
				wantComment[f.key] = f.value
			}
		}
		if lost > 0 {
			wantComment["lost"] = fmt.Sprint(lost)
		}
		if attrs&(1<<fuzzAttrTime) == 0 {
			wantComment["time"] = "received"
		}

		// gopacket's reader: interface, link type, snaplen, lengths, bytes,
		// and the ISB.
		var stats []pcapgo.NgInterfaceStatistics
		r, err := pcapgo.NewNgReader(bytes.NewReader(out), pcapgo.NgReaderOptions{WantMixedLinkType: true,
			StatisticsCallback: func(_ int, s pcapgo.NgInterfaceStatistics) { stats = append(stats, s) }})
		if err != nil {
			t.Fatal(err)
		}
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.ReadPacketData(); err != io.EOF {
			t.Fatalf("after the packet: %v, want EOF", err)
		}
		if r.NInterfaces() != 1 || ci.InterfaceIndex != 0 {
			t.Fatalf("%d interfaces, packet on %d", r.NInterfaces(), ci.InterfaceIndex)
		}
		ifc, _ := r.Interface(0)
		if ifc.LinkType != layers.LinkType(wantLT) || ifc.SnapLength != wantSnap {
			t.Errorf("interface link type %d snaplen %d, want %d, %d", ifc.LinkType, ifc.SnapLength, wantLT, wantSnap)
		}
		if ci.Length != wantOrig || !bytes.Equal(data[min(20, len(data)):], wantData[min(20, len(wantData)):]) || len(data) != len(wantData) {
			t.Errorf("packet of %d bytes (%d on the wire), want %d (%d)", len(data), ci.Length, len(wantData), wantOrig)
		}
		if wantLT != pcapng.LinkTypeLinuxSLL2 && !bytes.Equal(data, wantData) {
			t.Errorf("packet bytes differ")
		}
		wantRecv := 1 + lost
		if wantRecv == 0 {
			wantRecv = ^uint64(0) // saturates
		}
		if len(stats) != 1 || stats[0].PacketsDropped != lost || stats[0].PacketsReceived != wantRecv {
			t.Errorf("ISBs %+v, want one with %d dropped, %d received", stats, lost, wantRecv)
		}

		// The interface name: nflog:GROUP[:PREFIX][/sll2], PREFIX escaped.
		checkText(t, "if_name", ifc.Name)
		checkText(t, "if_description", ifc.Description)
		wantName := "nflog:5000"
		rest, ok := strings.CutPrefix(ifc.Name, wantName)
		if wantLT != lt {
			rest, ok = strings.CutSuffix(rest, "/sll2")
		}
		if !ok || len(prefix) > 0 && !strings.HasPrefix(rest, ":") || len(prefix) == 0 && rest != "" {
			t.Fatalf("interface name %q for prefix %q (link type %d, fallback %v)", ifc.Name, prefix, lt, wantLT != lt)
		}
		if got, err := unescape(strings.TrimPrefix(rest, ":")); err != nil || !bytes.Equal(got, prefix) {
			t.Errorf("interface name %q: prefix part unescapes to %q (%v), want %q", ifc.Name, got, err, prefix)
		}
		if strings.Contains(rest, "/") { // else a prefix could name another's fallback interface
			t.Errorf("interface name %q: '/' in the prefix part", ifc.Name)
		}

		// The strict lister: EPB options.
		l := newBlockLister(t, out)
		p := l.epbs[0]
		if p.hasFlags != (wantFlags != 0) || p.flags != wantFlags {
			t.Errorf("epb_flags %#x (present %v), want %#x", p.flags, p.hasFlags, wantFlags)
		}
		if hasSeq := attrs&(1<<fuzzAttrSeq) != 0; p.hasPacketID != hasSeq || hasSeq && p.packetID != uint64(seq) {
			t.Errorf("epb_packetid %d (present %v), want %d (present %v)", p.packetID, p.hasPacketID, seq, hasSeq)
		}
		if p.hasDropCount != (lost > 0) || p.dropCount != lost {
			t.Errorf("epb_dropcount %d (present %v), want %d", p.dropCount, p.hasDropCount, lost)
		}
		if p.comments != 1 {
			t.Fatalf("%d comments", p.comments)
		}
		checkText(t, "comment", string(p.comment))
		got := map[string]string{}
		for _, field := range strings.Split(string(p.comment), " ") {
			k, v, _ := strings.Cut(field, "=")
			if _, dup := got[k]; dup {
				t.Errorf("comment %q has %s twice", p.comment, k)
			}
			got[k] = v
		}
		if fmt.Sprint(got) != fmt.Sprint(wantComment) {
			t.Errorf("comment %q, want the fields %v", p.comment, wantComment)
		}
	})
}

// Attribute bits of FuzzEncoder's attrs argument.
const (
	fuzzAttrMark = iota
	fuzzAttrUID
	fuzzAttrGID
	fuzzAttrSeq
	fuzzAttrTime
)

// checkText fails the test if s, a string option, is not valid UTF-8 or
// holds a character that would break a line or steer a terminal.
func checkText(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not UTF-8", what, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			t.Fatalf("%s %q has the control character %U", what, s, r)
		}
	}
}

// unescape reverses internal/escape: \\ is a backslash, \xNN a byte.
func unescape(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b = append(b, '\\')
			i++
		case i+3 < len(s) && s[i+1] == 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return b, fmt.Errorf("bad escape at %d: %w", i, err)
			}
			b = append(b, byte(v))
			i += 3
		default:
			return b, fmt.Errorf("lone backslash at %d", i)
		}
	}
	return b, nil
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
	want := []string{"hook=input in=lo out= seqglobal=1", "hook=input in=lo out= seqglobal=1", "hook=input in=renamed out= seqglobal=1"}
	for i := range want {
		if comments[i] != want[i] {
			t.Errorf("packet %d: comment %q, want %q", i, comments[i], want[i])
		}
	}
}
