//go:build linux

package nflog_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"github.com/nflogcap/nflogcap/nflog"
)

var update = flag.Bool("update", false, "rewrite testdata/nflog fixtures from the live kernel")

const fixtureDir = "../testdata/nflog"

// familyRuleset logs, in the capturing namespace, ARP, bridge-family, netdev
// ingress (on port vA) and IPv4 (with conntrack) traffic to the group.
const familyRuleset = `
table arp nflogtest_arp {
	chain in { type filter hook input priority 0; log prefix "arp" group 5000; }
}
table bridge nflogtest_bridge {
	chain in { type filter hook input priority 0; ether type ip log prefix "bridge" group 5000; }
}
table netdev nflogtest_netdev {
	chain ing { type filter hook ingress device "vA" priority 0; log prefix "netdev" group 5000; }
}
table inet nflogtest_inet {
	chain in { type filter hook input priority 0; ct state new,established udp dport 9999 log prefix "inet" group 5000; }
}`

// bridgeTopology makes two namespaces joined by a veth pair: in cap, port vA
// of bridge br0 (10.201.0.1/24); in peer, vB (10.201.0.2/24).
func bridgeTopology(t *testing.T) (capNS, peer *netns.NS) {
	t.Helper()
	capNS, peer = nstest.New(t), nstest.New(t)
	steps := []struct {
		ns   *netns.NS
		args []string
	}{
		{capNS, []string{"link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", peer.Name}},
		{capNS, []string{"link", "add", "br0", "type", "bridge"}},
		{capNS, []string{"link", "set", "vA", "master", "br0"}},
		{capNS, []string{"link", "set", "vA", "up"}},
		{capNS, []string{"link", "set", "br0", "up"}},
		{capNS, []string{"addr", "add", "10.201.0.1/24", "dev", "br0"}},
		{peer, []string{"addr", "add", "10.201.0.2/24", "dev", "vB"}},
		{peer, []string{"link", "set", "vB", "up"}},
	}
	for _, s := range steps {
		if err := s.ns.Run("ip", s.args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := capNS.Nft(familyRuleset); err != nil {
		t.Fatal(err)
	}
	return capNS, peer
}

// sendTagged writes one 802.1Q-tagged (VLAN 100) IPv4 frame out of vB with a
// raw packet socket; the kernel has no VLAN devices to do it.
func sendTagged(t *testing.T, peer *netns.NS) {
	t.Helper()
	err := peer.Do(func() error {
		ifi, err := net.InterfaceByName("vB")
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		frame := make([]byte, 0, 64)
		frame = append(frame, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		frame = append(frame, ifi.HardwareAddr...)
		frame = binary.BigEndian.AppendUint16(frame, 0x8100)
		frame = binary.BigEndian.AppendUint16(frame, 100) // VID 100, priority 0
		frame = binary.BigEndian.AppendUint16(frame, 0x0800)
		frame = append(frame, make([]byte, 46)...)
		frame[18] = 0x45
		return unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every family the kernel logs (IPv4, ARP, bridge, netdev) parses, with the
// bridge port, VLAN, link-layer header and conntrack attributes.
func TestIntegrationFamilies(t *testing.T) {
	capNS, peer := bridgeTopology(t)
	l := listen(t, capNS, nflog.Config{CopyMode: nflog.CopyPacket, Flags: nflog.FlagSeq})
	index := func(name string) uint32 {
		var idx uint32
		if err := capNS.Do(func() error {
			ifi, err := net.InterfaceByName(name)
			if err == nil {
				idx = uint32(ifi.Index)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return idx
	}
	vA, br0 := index("vA"), index("br0")
	s := newSender(t, peer, "udp4")
	s.send(t, "10.201.0.1:9999", 2, 32)
	sendTagged(t, peer)

	seen := map[string]nflog.Event{}
	raw := map[string][]byte{}
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) < 5 && time.Now().Before(deadline) {
		l.SetReadDeadline(deadline)
		evs, err := l.Receive()
		if err != nil {
			t.Fatalf("Receive: %v (seen %v)", err, keys(seen))
		}
		for _, ev := range evs {
			key := string(ev.Prefix)
			if ev.Has(nflog.AttrVLAN) {
				key = "netdev-vlan"
			}
			if _, ok := seen[key]; !ok {
				seen[key] = cloneEvent(ev)
				if len(evs) == 1 {
					raw[key] = l.LastDatagram()
				}
			}
		}
	}
	for _, k := range []string{"arp", "bridge", "netdev", "netdev-vlan", "inet"} {
		if _, ok := seen[k]; !ok {
			t.Fatalf("no %s event; saw %v", k, keys(seen))
		}
	}

	arp := seen["arp"]
	if arp.Family != nflog.FamilyARP || arp.HookName() != "input" || arp.HWProtocol != 0x0806 || arp.InDev != br0 || len(arp.Payload) != 28 {
		t.Errorf("arp: family %v hook %s proto %#x in %d payload %d", arp.Family, arp.HookName(), arp.HWProtocol, arp.InDev, len(arp.Payload))
	}
	if len(arp.HWAddr) != 6 || !arp.Has(nflog.AttrHWType) || arp.HWType != 1 || arp.HWLen != 14 || len(arp.HWHeader) != 14 {
		t.Errorf("arp: hw addr %x type %d len %d header %d bytes", arp.HWAddr, arp.HWType, arp.HWLen, len(arp.HWHeader))
	}
	br := seen["bridge"]
	if br.Family != nflog.FamilyBridge || br.HookName() != "input" || br.InDev != br0 || br.PhysInDev != vA || len(br.L2Header) != 14 {
		t.Errorf("bridge: family %v hook %s in %d physin %d (want %d, %d) l2 %d bytes", br.Family, br.HookName(), br.InDev, br.PhysInDev, br0, vA, len(br.L2Header))
	}
	nd := seen["netdev"]
	if nd.Family != nflog.FamilyNetdev || nd.HookName() != "ingress" || nd.Direction() != nflog.DirInbound || nd.InDev != vA || len(nd.L2Header) != 14 {
		t.Errorf("netdev: family %v hook %s in %d l2 %d bytes", nd.Family, nd.HookName(), nd.InDev, len(nd.L2Header))
	}
	vl := seen["netdev-vlan"]
	if vl.VLANProto != 0x8100 || vl.VLANTCI&0xfff != 100 {
		t.Errorf("vlan: proto %#x tci %#x, want 0x8100 and VID 100", vl.VLANProto, vl.VLANTCI)
	}
	in := seen["inet"]
	if in.Family != nflog.FamilyIPv4 || in.InDev != br0 {
		t.Errorf("inet: family %v in %d", in.Family, in.InDev)
	}
	if in.PhysInDev != 0 && in.PhysInDev != vA {
		t.Errorf("inet: physin %d, want 0 or %d", in.PhysInDev, vA)
	}
	t.Logf("inet physindev %d (br_netfilter %s)", in.PhysInDev, map[bool]string{true: "on", false: "off"}[in.PhysInDev != 0])

	if *update {
		for k, b := range raw {
			writeFixture(t, k+".bin", b)
		}
		return
	}
	// netdev.bin is not compared: the first untagged frame on vA may be ARP
	// or IPv6 neighbour discovery, whichever the peer sends first.
	for k, fc := range map[string]fixtureCheck{
		"arp":         {payloadLenOnly: true},        // ARP carries the veths' random MACs
		"bridge":      {},                            // the first UDP datagram, as bridged
		"netdev-vlan": {},                            // the hand-made tagged frame
		"inet":        {ignore: nflog.AttrPhysInDev}, // physindev only with br_netfilter loaded
	} {
		compareFixture(t, k+".bin", []nflog.Event{seen[k]}, fc)
	}
}

// With FlagConntrack the kernel either attaches the conntrack entry or, when
// built without CONFIG_NETFILTER_NETLINK_GLUE_CT (as the 6.18 kernel these
// tests were written on), refuses the flag; the error must say so.
func TestIntegrationConntrack(t *testing.T) {
	ns := newLoggingNS(t)
	if err := ns.Nft("table inet nflogtest_ct {\n chain in {\n type filter hook input priority -1; ct state new counter\n }\n}\n"); err != nil {
		t.Fatal(err)
	}
	cfg := nflog.Config{Group: testGroup, NetNS: ns.Path, Flags: nflog.FlagConntrack}
	l, err := nflog.Listen(&cfg)
	if err != nil {
		if !errors.Is(err, unix.EOPNOTSUPP) || !strings.Contains(err.Error(), "CONFIG_NETFILTER_NETLINK_GLUE_CT") {
			t.Fatalf("Listen with FlagConntrack: %v; want a supported flag or EOPNOTSUPP naming the kernel option", err)
		}
		t.Logf("kernel refuses conntrack: %v", err)
		// The kernel checks the flags before it binds.
		if _, ok := boundGroups(t, ns)[testGroup]; ok {
			t.Error("group left bound after the refused Listen")
		}
		return
	}
	defer l.Close()
	newSender(t, ns, "udp4").send(t, "127.0.0.1:9999", 1, 8)
	ev := receiveN(t, l, 1, 5*time.Second)[0]
	if len(ev.CT) == 0 || ev.CTState() != "new" {
		t.Errorf("conntrack: %d bytes, state %q; want an entry in state new", len(ev.CT), ev.CTState())
	}
}

// TestIntegrationFixtures records the loopback fixtures with -update;
// otherwise it checks that the live kernel still sends what they hold, in
// the fields that do not change between runs (see compareFixture).
func TestIntegrationFixtures(t *testing.T) {
	ns := newLoggingNS(t)
	s4, s6 := newSender(t, ns, "udp4"), newSender(t, ns, "udp6")
	scenarios := []struct {
		file string
		cfg  nflog.Config
		send func()
		n    int
	}{
		{"ipv4-input-seq.bin", nflog.Config{CopyMode: nflog.CopyPacket, Flags: nflog.FlagSeq | nflog.FlagSeqGlobal},
			func() { s4.send(t, "127.0.0.1:9999", 1, 16) }, 1},
		{"ipv6-output-mark.bin", nflog.Config{CopyMode: nflog.CopyPacket},
			func() { s6.send(t, "[::1]:9998", 1, 16) }, 1},
		{"meta.bin", nflog.Config{CopyMode: nflog.CopyMeta},
			func() { s4.send(t, "127.0.0.1:9999", 1, 16) }, 1},
		{"snaplen-40.bin", nflog.Config{CopyMode: nflog.CopyPacket, Snaplen: 40},
			func() { s4.send(t, "127.0.0.1:9999", 1, 200) }, 1},
		{"batch-5.bin", nflog.Config{CopyMode: nflog.CopyPacket, QThresh: 5, Timeout: 5 * time.Second, Flags: nflog.FlagSeq},
			func() { s4.send(t, "127.0.0.1:9999", 5, 16) }, 5},
	}
	for _, sc := range scenarios {
		t.Run(sc.file, func(t *testing.T) {
			l := listen(t, ns, sc.cfg)
			defer l.Close()
			sc.send()
			l.SetReadDeadline(time.Now().Add(5 * time.Second))
			evs, err := l.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != sc.n {
				t.Fatalf("one datagram held %d events, want %d", len(evs), sc.n)
			}
			if *update {
				writeFixture(t, sc.file, l.LastDatagram())
				return
			}
			compareFixture(t, sc.file, evs, fixtureCheck{ifindex: true})
		})
	}
}

// fixtureCheck says how compareFixture treats one scenario.
type fixtureCheck struct {
	ignore         nflog.Attr // attributes whose presence depends on the host
	payloadLenOnly bool       // the payload holds random bytes (MAC addresses)
	ifindex        bool       // compare interface indexes (only lo's, 1, is fixed)
}

// compareFixture parses a recorded datagram and compares its events with
// live ones in what is stable between runs: family, group, hook, hardware
// protocol, the set of attributes, prefix, mark, uid/gid, sequence number,
// hardware type and lengths, VLAN, the lengths of the link-layer fields and
// the payload, and the payload bytes except those that vary per packet (IP
// id, flow label, checksums, UDP source port; see stablePayload).
func compareFixture(t *testing.T, name string, live []nflog.Event, fc fixtureCheck) {
	t.Helper()
	want, err := nflog.ParseDatagram(readFixture(t, name), time.Time{}, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(live) != len(want) {
		t.Fatalf("%s: %d live events, the fixture holds %d", name, len(live), len(want))
	}
	type stable struct {
		Family                     nflog.Family
		Group, HWProtocol          uint16
		Hook                       uint8
		Present                    nflog.Attr
		Prefix                     string
		Mark, UID, GID, Seq        uint32
		InDev, OutDev              uint32
		HWType, HWLen              uint16
		HWAddr, HWHeader, L2Header int
		VLANProto, VLANTCI         uint16
		PayloadLen                 int
		Payload                    string
	}
	view := func(ev *nflog.Event) stable {
		s := stable{
			Family: ev.Family, Group: ev.Group, HWProtocol: ev.HWProtocol, Hook: ev.Hook,
			Present: ev.Present &^ fc.ignore, Prefix: string(ev.Prefix),
			Mark: ev.Mark, UID: ev.UID, GID: ev.GID, Seq: ev.Seq,
			HWType: ev.HWType, HWLen: ev.HWLen,
			HWAddr: len(ev.HWAddr), HWHeader: len(ev.HWHeader), L2Header: len(ev.L2Header),
			VLANProto: ev.VLANProto, VLANTCI: ev.VLANTCI, PayloadLen: len(ev.Payload),
		}
		if fc.ifindex {
			s.InDev, s.OutDev = ev.InDev, ev.OutDev
		}
		if !fc.payloadLenOnly {
			s.Payload = fmt.Sprintf("%x", stablePayload(ev.Payload))
		}
		return s
	}
	for i := range want {
		if g, w := view(&live[i]), view(&want[i]); g != w {
			t.Errorf("%s event %d: live kernel sent\n%+v\nthe fixture holds\n%+v", name, i, g, w)
		}
	}
}

// stablePayload copies an IPv4 or IPv6 packet with the bytes that differ
// from packet to packet zeroed: the IPv4 id and checksum, the IPv6 traffic
// class and flow label, and for UDP the source port and checksum. Other
// payloads are returned as they are.
func stablePayload(p []byte) []byte {
	p = bytes.Clone(p)
	zero := func(from, to int) {
		for i := from; i < min(to, len(p)); i++ {
			p[i] = 0
		}
	}
	if len(p) == 0 {
		return p
	}
	l4, proto := -1, byte(0)
	switch p[0] >> 4 {
	case 4:
		if len(p) >= 20 {
			zero(4, 6)
			zero(10, 12)
			l4, proto = int(p[0]&0xf)*4, p[9]
		}
	case 6:
		if len(p) >= 40 {
			p[0] &= 0xf0
			zero(1, 4)
			l4, proto = 40, p[6]
		}
	}
	if l4 >= 0 && proto == 17 { // UDP
		zero(l4, l4+2)
		zero(l4+6, l4+8)
	}
	return p
}

func writeFixture(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fixtureDir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", name, len(b))
}

func keys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
