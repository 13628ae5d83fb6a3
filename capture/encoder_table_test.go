package capture

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// Table tests of what the encoder puts in the blocks, each expectation
// worked out by hand from NFLOG-FACTS.md and the pcapng and SLL2 formats,
// not from the encoder's code.

// testConfig is the encoder configuration of these tests: link type lt,
// comments, whole packets, testNames.
func testConfig(lt pcapng.LinkType) encoderConfig {
	return encoderConfig{linkType: lt, comments: true, maxInterfaces: DefaultMaxInterfaces, copyMode: nflog.CopyPacket, names: testNames}
}

// encodeWith encodes evs with cfg and lists the blocks of the file.
func encodeWith(t *testing.T, cfg encoderConfig, evs ...nflog.Event) *blockLister {
	t.Helper()
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf, &pcapng.WriterOptions{OS: "Linux", Hardware: "x86_64", Clock: fixedClock})
	e := newEncoder(&cfg, w)
	for i := range evs {
		if err := e.write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return newBlockLister(t, buf.Bytes())
}

var allLinkTypes = []pcapng.LinkType{pcapng.LinkTypeRaw, pcapng.LinkTypeNFLOG, pcapng.LinkTypeLinuxSLL2}

// udp4 is an IPv4 UDP packet of family fam logged at hook, from interface 1
// inbound or to interface 1 outbound.
func udp4(t *testing.T, fam nflog.Family, hook uint8) nflog.Event {
	return kernelEvent(t, nflog.Event{Family: fam, Group: 5000, HWProtocol: 0x0800, Hook: hook, InDev: 1, OutDev: 2, Payload: ipv4Packet(28, 28)})
}

// epb_flags carries the direction: inbound for prerouting and input,
// outbound for output and postrouting, no option at all for forward.
func TestEncoderDirectionFlags(t *testing.T) {
	for _, tc := range []struct {
		fam    nflog.Family
		hook   uint8
		flags  uint32 // 0: no epb_flags
		family string
	}{
		{nflog.FamilyIPv4, 0, 1, "ipv4 prerouting"},
		{nflog.FamilyIPv4, 1, 1, "ipv4 input"},
		{nflog.FamilyIPv4, 2, 0, "ipv4 forward"},
		{nflog.FamilyIPv4, 3, 2, "ipv4 output"},
		{nflog.FamilyIPv4, 4, 2, "ipv4 postrouting"},
		{nflog.FamilyIPv6, 0, 1, "ipv6 prerouting"},
		{nflog.FamilyIPv6, 1, 1, "ipv6 input"},
		{nflog.FamilyIPv6, 2, 0, "ipv6 forward"},
		{nflog.FamilyIPv6, 3, 2, "ipv6 output"},
		{nflog.FamilyIPv6, 4, 2, "ipv6 postrouting"},
		{nflog.FamilyBridge, 2, 0, "bridge forward"},
		{nflog.FamilyBridge, 5, 1, "bridge brouting"},
		{nflog.FamilyARP, 0, 1, "arp input"},
		{nflog.FamilyARP, 1, 2, "arp output"},
		{nflog.FamilyARP, 2, 0, "arp forward"},
		{nflog.FamilyNetdev, 0, 1, "netdev ingress"},
		{nflog.FamilyNetdev, 1, 2, "netdev egress"},
	} {
		ev := udp4(t, tc.fam, tc.hook)
		if tc.fam == nflog.FamilyIPv6 {
			ev = kernelEvent(t, nflog.Event{Family: tc.fam, Group: 5000, HWProtocol: 0x86dd, Hook: tc.hook, InDev: 1, Payload: ipv6Packet(48, 48)})
		}
		for _, lt := range allLinkTypes {
			p := encodeWith(t, testConfig(lt), ev).epbs[0]
			if p.hasFlags != (tc.flags != 0) || p.flags != tc.flags {
				t.Errorf("%s, link type %d: epb_flags %#x (present %v), want %#x (present %v)", tc.family, lt, p.flags, p.hasFlags, tc.flags, tc.flags != 0)
			}
		}
	}
}

// One interface per group, prefix and link type, named after the group and
// the prefix; what raw IP cannot carry goes to the prefix's /sll2 interface.
func TestEncoderInterfaceNames(t *testing.T) {
	ip := func(group uint16, prefix string) nflog.Event {
		return kernelEvent(t, nflog.Event{Family: nflog.FamilyIPv4, Group: group, HWProtocol: 0x0800, Hook: 1, InDev: 1, Prefix: []byte(prefix), Payload: ipv4Packet(28, 28)})
	}
	other := func(fam nflog.Family, prefix string, proto uint16, payload []byte) nflog.Event {
		return kernelEvent(t, nflog.Event{Family: fam, Group: 5000, HWProtocol: proto, Hook: 0, InDev: 1, Prefix: []byte(prefix), Payload: payload})
	}
	arp := other(nflog.FamilyARP, "ssh-drop", 0x0806, arpRequest())
	bridge := other(nflog.FamilyBridge, "ssh-drop", 0x0800, ipv4Packet(28, 28))
	netdev := other(nflog.FamilyNetdev, "ssh-drop", 0x0806, arpRequest())
	meta := other(nflog.FamilyIPv4, "ssh-drop", 0x0800, nil)
	v6in4 := other(nflog.FamilyIPv4, "ssh-drop", 0x86dd, ipv6Packet(48, 48)) // payload not of its family
	for _, tc := range []struct {
		name    string
		lt      pcapng.LinkType
		evs     []nflog.Event
		ifaces  []string // in order of appearance
		packets []string // interface of each packet
	}{
		{"no prefix", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "")},
			[]string{"nflog:5000"}, []string{"nflog:5000"}},
		{"prefix", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "ssh-drop"), ip(5000, ""), ip(5000, "ssh-drop")},
			[]string{"nflog:5000:ssh-drop", "nflog:5000"}, []string{"nflog:5000:ssh-drop", "nflog:5000", "nflog:5000:ssh-drop"}},
		{"two groups, one prefix", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "ssh-drop"), ip(5001, "ssh-drop"), ip(5000, "ssh-drop")},
			[]string{"nflog:5000:ssh-drop", "nflog:5001:ssh-drop"}, []string{"nflog:5000:ssh-drop", "nflog:5001:ssh-drop", "nflog:5000:ssh-drop"}},
		{"raw falls back to sll2", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "ssh-drop"), arp, bridge, netdev, meta, v6in4},
			[]string{"nflog:5000:ssh-drop", "nflog:5000:ssh-drop/sll2"},
			[]string{"nflog:5000:ssh-drop", "nflog:5000:ssh-drop/sll2", "nflog:5000:ssh-drop/sll2", "nflog:5000:ssh-drop/sll2", "nflog:5000:ssh-drop/sll2", "nflog:5000:ssh-drop/sll2"}},
		{"sll2 needs no fallback", pcapng.LinkTypeLinuxSLL2, []nflog.Event{ip(5000, "ssh-drop"), arp, bridge, netdev},
			[]string{"nflog:5000:ssh-drop"}, []string{"nflog:5000:ssh-drop", "nflog:5000:ssh-drop", "nflog:5000:ssh-drop", "nflog:5000:ssh-drop"}},
		{"nflog needs no fallback", pcapng.LinkTypeNFLOG, []nflog.Event{ip(5000, "ssh-drop"), arp, meta},
			[]string{"nflog:5000:ssh-drop"}, []string{"nflog:5000:ssh-drop", "nflog:5000:ssh-drop", "nflog:5000:ssh-drop"}},
		// A prefix ending in "/sll2" must not take the name of another
		// prefix's fallback interface: '/' is escaped in names.
		{"prefix looks like a fallback", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "arp/sll2"), other(nflog.FamilyARP, "arp", 0x0806, arpRequest())},
			[]string{`nflog:5000:arp\x2fsll2`, "nflog:5000:arp/sll2"}, []string{`nflog:5000:arp\x2fsll2`, "nflog:5000:arp/sll2"}},
		{"escaped prefix", pcapng.LinkTypeRaw, []nflog.Event{ip(5000, "a/b\\c\x1b\xff é")},
			[]string{`nflog:5000:a\x2fb\\c\x1b\xff é`}, []string{`nflog:5000:a\x2fb\\c\x1b\xff é`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := encodeWith(t, testConfig(tc.lt), tc.evs...)
			var ifaces, packets []string
			for _, ifc := range l.ifaces {
				ifaces = append(ifaces, ifc.name)
			}
			for i := range l.epbs {
				packets = append(packets, l.ifaceName(&l.epbs[i]))
			}
			if !slices.Equal(ifaces, tc.ifaces) || !slices.Equal(packets, tc.packets) {
				t.Errorf("interfaces %q, packets on %q\nwant %q, %q", ifaces, packets, tc.ifaces, tc.packets)
			}
			for _, ifc := range l.ifaces {
				want := uint16(tc.lt)
				if strings.HasSuffix(ifc.name, "/sll2") {
					want = uint16(pcapng.LinkTypeLinuxSLL2)
				}
				if ifc.linkType != want {
					t.Errorf("%s: link type %d, want %d", ifc.name, ifc.linkType, want)
				}
			}
		})
	}
}

// The encoder option behind --no-comments leaves opt_comment out of every
// EPB, but packets past the interface cap still name their prefix.
func TestEncoderNoComments(t *testing.T) {
	evs := fixtureEvents(t)
	for _, lt := range allLinkTypes {
		cfg := testConfig(lt)
		if l := encodeWith(t, cfg, evs...); countComments(l) != len(evs) {
			t.Errorf("link type %d with comments: %d of %d packets have a comment", lt, countComments(l), len(evs))
		}
		cfg.comments = false
		l := encodeWith(t, cfg, evs...)
		if len(l.epbs) != len(evs) || countComments(l) != 0 {
			t.Errorf("link type %d without comments: %d of %d packets have a comment", lt, countComments(l), len(l.epbs))
		}
		for i, p := range l.epbs { // the other options stay
			if evs[i].Has(nflog.AttrSeq) && (!p.hasPacketID || p.packetID != uint64(evs[i].Seq)) {
				t.Errorf("packet %d without comments lost its epb_packetid", i)
			}
		}
	}
	cfg := testConfig(pcapng.LinkTypeRaw)
	cfg.comments, cfg.maxInterfaces = false, 1
	l := encodeWith(t, cfg, udp4(t, nflog.FamilyIPv4, 1), kernelEvent(t, nflog.Event{Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: 1, InDev: 1, Prefix: []byte("late"), Payload: ipv4Packet(28, 28)}))
	if l.epbs[0].comments != 0 || l.epbs[1].comments != 1 || !strings.HasSuffix(string(l.epbs[1].comment), " prefix=late") {
		t.Errorf("overflow without comments: comments %d/%d %q; want none, then one naming the prefix", l.epbs[0].comments, l.epbs[1].comments, l.epbs[1].comment)
	}
}

func countComments(l *blockLister) int {
	n := 0
	for _, p := range l.epbs {
		if p.comments > 1 {
			return -1
		}
		n += p.comments
	}
	return n
}

// A payload cut by the snaplen keeps its length on the wire, read from the
// IPv4 total length or the IPv6 payload length. The NFLOG link type keeps
// libpcap's original length = captured length (see the comment in write).
func TestEncoderOriginalLength(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fam      nflog.Family
		proto    uint16
		payload  []byte
		snaplen  int
		wantCap  int // raw; SLL2 adds 20
		wantOrig int
	}{
		{"ipv4 whole", nflog.FamilyIPv4, 0x0800, ipv4Packet(228, 228), 0, 228, 228},
		{"ipv4 cut", nflog.FamilyIPv4, 0x0800, ipv4Packet(228, 40), 40, 40, 228},
		{"ipv4 header cut", nflog.FamilyIPv4, 0x0800, ipv4Packet(228, 16), 16, 16, 16},
		{"ipv6 cut", nflog.FamilyIPv6, 0x86dd, ipv6Packet(1040, 64), 64, 64, 1040},
		{"ipv6 header cut", nflog.FamilyIPv6, 0x86dd, ipv6Packet(1040, 39), 39, 39, 39},
		{"ipv6 payload length 0", nflog.FamilyIPv6, 0x86dd, ipv6Packet(40, 40), 0, 40, 40},
		{"ipv4 in bridge, cut", nflog.FamilyBridge, 0x0800, ipv4Packet(1500, 100), 100, 100, 1500},
		{"arp", nflog.FamilyARP, 0x0806, arpRequest(), 0, 28, 28},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := kernelEvent(t, nflog.Event{Family: tc.fam, Group: 5000, HWProtocol: tc.proto, Hook: 0, InDev: 1, Payload: tc.payload})
			for _, lt := range allLinkTypes {
				cfg := testConfig(lt)
				cfg.snaplen = tc.snaplen
				l := encodeWith(t, cfg, ev)
				p := l.epbs[0]
				ifc := l.ifaces[p.iface]
				wantCap, wantOrig := tc.wantCap, tc.wantOrig
				switch pcapng.LinkType(ifc.linkType) {
				case pcapng.LinkTypeLinuxSLL2:
					wantCap, wantOrig = wantCap+20, wantOrig+20
				case pcapng.LinkTypeNFLOG:
					wantCap, wantOrig = len(ev.Raw), len(ev.Raw)
				}
				if p.capLen != wantCap || p.origLen != wantOrig {
					t.Errorf("link type %d: captured %d of %d bytes, want %d of %d", ifc.linkType, p.capLen, p.origLen, wantCap, wantOrig)
				}
			}
		})
	}
}

// The SLL2 header, byte by byte: protocol, reserved, interface index,
// ARPHRD type, packet type, address length, address (padded to 8).
func TestEncoderSLL2Header(t *testing.T) {
	mac := []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	for _, tc := range []struct {
		name string
		ev   nflog.Event
		want [20]byte
	}{
		{"ipv4 input", nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: 1, InDev: 7, HWType: 1, Present: nflog.AttrHWType, HWAddr: mac},
			[20]byte{0x08, 0x00, 0, 0, 0, 0, 0, 7, 0x00, 0x01, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0}},
		{"ipv4 prerouting", nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: 0, InDev: 0x01020304, HWType: 772, Present: nflog.AttrHWType, HWAddr: make([]byte, 6)},
			[20]byte{0x08, 0x00, 0, 0, 1, 2, 3, 4, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"ipv6 output", nflog.Event{Family: nflog.FamilyIPv6, HWProtocol: 0x86dd, Hook: 3, OutDev: 9},
			[20]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 9, 0xff, 0xfe, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"ipv4 postrouting", nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: 4, InDev: 3, OutDev: 300},
			[20]byte{0x08, 0x00, 0, 0, 0, 0, 0x01, 0x2c, 0xff, 0xfe, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"ipv4 forward", nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: 2, InDev: 3, OutDev: 4, HWType: 1, Present: nflog.AttrHWType, HWAddr: mac},
			[20]byte{0x08, 0x00, 0, 0, 0, 0, 0, 3, 0x00, 0x01, 3, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0}},
		{"arp output", nflog.Event{Family: nflog.FamilyARP, HWProtocol: 0x0806, Hook: 1, OutDev: 5},
			[20]byte{0x08, 0x06, 0, 0, 0, 0, 0, 5, 0xff, 0xfe, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"netdev ingress, 8-byte address", nflog.Event{Family: nflog.FamilyNetdev, HWProtocol: 0x0806, Hook: 0, InDev: 2, HWType: 32, Present: nflog.AttrHWType, HWAddr: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
			[20]byte{0x08, 0x06, 0, 0, 0, 0, 0, 2, 0x00, 0x20, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"output without output device", nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: 3, InDev: 6},
			[20]byte{0x08, 0x00, 0, 0, 0, 0, 0, 6, 0xff, 0xfe, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			ev.Group = 5000
			ev.Payload = ipv4Packet(28, 28)
			if ev.HWProtocol == 0x0806 {
				ev.Payload = arpRequest()
			}
			ev = kernelEvent(t, ev)
			for _, lt := range []pcapng.LinkType{pcapng.LinkTypeLinuxSLL2, pcapng.LinkTypeRaw} {
				l := encodeWith(t, testConfig(lt), ev)
				p := l.epbs[0]
				if pcapng.LinkType(l.ifaces[p.iface].linkType) != pcapng.LinkTypeLinuxSLL2 {
					continue // raw IP carried it
				}
				if len(p.data) < 20 || !bytes.Equal(p.data[:20], tc.want[:]) {
					t.Errorf("link type %d: SLL2 header\n% x\nwant\n% x", lt, p.data[:min(20, len(p.data))], tc.want)
				}
				if !bytes.Equal(p.data[20:], ev.Payload) {
					t.Errorf("link type %d: the payload does not follow the header", lt)
				}
			}
		})
	}
}

// The comment names the hook, the interfaces (bridge ports too), mark,
// owner, sequence numbers, conntrack state, losses, and where the time
// came from.
func TestEncoderCommentContent(t *testing.T) {
	kernelTime := time.Unix(1764786000, 5000)
	withTime := nflog.AttrTimestamp
	for _, tc := range []struct {
		name string
		ev   nflog.Event
		want string
	}{
		{"input", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, Time: kernelTime, Present: withTime},
			"hook=input in=lo out="},
		{"bridge ports", nflog.Event{Family: nflog.FamilyBridge, Hook: 2, InDev: 3, OutDev: 3, PhysInDev: 2, PhysOutDev: 9, Time: kernelTime, Present: withTime},
			"hook=forward in=br0 out=br0 physin=vA physout=#9"},
		{"physin only", nflog.Event{Family: nflog.FamilyIPv4, Hook: 0, InDev: 3, PhysInDev: 2, Time: kernelTime, Present: withTime},
			"hook=prerouting in=br0 out= physin=vA"},
		{"owner, output: receive time", nflog.Event{Family: nflog.FamilyIPv6, Hook: 3, OutDev: 1, UID: 1000, GID: 100, Present: nflog.AttrUID | nflog.AttrGID},
			"hook=output in= out=lo uid=1000 gid=100 time=received"},
		{"root owner, postrouting", nflog.Event{Family: nflog.FamilyIPv4, Hook: 4, OutDev: 2, Present: nflog.AttrUID | nflog.AttrGID},
			"hook=postrouting in= out=vA uid=0 gid=0 time=received"},
		{"mark and sequence numbers", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, Mark: 0xdead, Seq: 41, SeqGlobal: 99, Time: kernelTime, LostBefore: 3,
			Present: withTime | nflog.AttrMark | nflog.AttrSeq | nflog.AttrSeqGlobal},
			"hook=input in=lo out= mark=0xdead seqglobal=99 lost=3"}, // seq is the packet id, not in the comment
		{"mark 0 is shown", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, Time: kernelTime, Present: withTime | nflog.AttrMark},
			"hook=input in=lo out= mark=0x0"},
		{"ct new", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, CTInfo: 2, Time: kernelTime, Present: withTime | nflog.AttrCTInfo},
			"hook=input in=lo out= ct=new"},
		{"ct established", nflog.Event{Family: nflog.FamilyIPv4, Hook: 3, OutDev: 1, CTInfo: 0, Present: nflog.AttrCTInfo},
			"hook=output in= out=lo ct=established time=received"},
		{"ct established reply", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, CTInfo: 3, Time: kernelTime, Present: withTime | nflog.AttrCTInfo},
			"hook=input in=lo out= ct=established-reply"},
		{"ct untracked", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, CTInfo: 7, Time: kernelTime, Present: withTime | nflog.AttrCTInfo},
			"hook=input in=lo out= ct=untracked"},
		{"no ct info", nflog.Event{Family: nflog.FamilyIPv4, Hook: 1, InDev: 1, Time: kernelTime, Present: withTime},
			"hook=input in=lo out="},
		{"arp output", nflog.Event{Family: nflog.FamilyARP, Hook: 1, OutDev: 3},
			"hook=output in= out=br0 time=received"},
		{"netdev egress", nflog.Event{Family: nflog.FamilyNetdev, Hook: 1, OutDev: 2},
			"hook=egress in= out=vA time=received"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			ev.Group, ev.HWProtocol, ev.Payload = 5000, 0x0800, ipv4Packet(28, 28)
			ev = kernelEvent(t, ev)
			for _, lt := range allLinkTypes {
				l := encodeWith(t, testConfig(lt), ev)
				if got := string(l.epbs[0].comment); got != tc.want {
					t.Errorf("link type %d: comment %q, want %q", lt, got, tc.want)
				}
			}
		})
	}
}

// Drop counts and packet ids reach the EPB options and the ISBs: per
// interface, ifdrop is the sum of the drops before its packets and ifrecv
// adds the packets written.
func TestEncoderDropsAndIDs(t *testing.T) {
	mk := func(prefix string, seq uint32, lost uint64) nflog.Event {
		return kernelEvent(t, nflog.Event{Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: 1, InDev: 1, Prefix: []byte(prefix),
			Payload: ipv4Packet(28, 28), Seq: seq, Present: nflog.AttrSeq, LostBefore: lost})
	}
	noSeq := kernelEvent(t, nflog.Event{Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: 1, InDev: 1, Prefix: []byte("b"), Payload: ipv4Packet(28, 28)})
	evs := []nflog.Event{mk("a", 0, 0), mk("a", 4, 3), mk("b", 5, 0), mk("a", 10, 5), noSeq}
	l := encodeWith(t, testConfig(pcapng.LinkTypeRaw), evs...)
	for i, want := range []struct {
		id, drops     uint64
		hasID, hasDrp bool
	}{{0, 0, true, false}, {4, 3, true, true}, {5, 0, true, false}, {10, 5, true, true}, {0, 0, false, false}} {
		p := l.epbs[i]
		if p.hasPacketID != want.hasID || p.packetID != want.id || p.hasDropCount != want.hasDrp || p.dropCount != want.drops {
			t.Errorf("packet %d: epb_packetid %d (%v), epb_dropcount %d (%v); want %d (%v), %d (%v)",
				i, p.packetID, p.hasPacketID, p.dropCount, p.hasDropCount, want.id, want.hasID, want.drops, want.hasDrp)
		}
	}
	want := []listedStats{{iface: 0, ifRecv: 11, ifDrop: 8, usrDeliv: 3, hasRecv: true, hasDrop: true}, {iface: 1, ifRecv: 2, ifDrop: 0, usrDeliv: 2, hasRecv: true, hasDrop: true}}
	if fmt.Sprint(l.isbs) != fmt.Sprint(want) {
		t.Errorf("ISBs %+v, want %+v", l.isbs, want)
	}
}
