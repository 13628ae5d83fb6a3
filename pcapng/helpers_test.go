package pcapng

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// ne is the byte order the Writer writes, for the tests' own encoding.
var ne = binary.NativeEndian

// Packet builders for test streams: real headers, so that tshark decodes
// them without warnings.

func checksum(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xFFFF {
		sum = sum>>16 + sum&0xFFFF
	}
	return ^uint16(sum)
}

// udp returns a UDP datagram with its checksum over the pseudo-header.
func udp(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(u, sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	sum := checksum(0, src.AsSlice())
	sum = checksum(sum, dst.AsSlice())
	sum += 17 + uint32(len(u))
	sum = checksum(sum, u)
	c := fold(sum)
	if c == 0 {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return u
}

func ipv4UDP(src, dst string, sport, dport uint16, payload string) []byte {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	u := udp(s, d, sport, dport, []byte(payload))
	p := make([]byte, 20, 20+len(u))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(u)))
	p[8] = 64 // TTL
	p[9] = 17 // UDP
	copy(p[12:], s.AsSlice())
	copy(p[16:], d.AsSlice())
	binary.BigEndian.PutUint16(p[10:], fold(checksum(0, p)))
	return append(p, u...)
}

func ipv6UDP(src, dst string, sport, dport uint16, payload string) []byte {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	u := udp(s, d, sport, dport, []byte(payload))
	p := make([]byte, 40, 40+len(u))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(len(u)))
	p[6] = 17 // next header: UDP
	p[7] = 64 // hop limit
	copy(p[8:], s.AsSlice())
	copy(p[24:], d.AsSlice())
	return append(p, u...)
}

// arpRequest is an Ethernet/IPv4 ARP who-has, a non-IP payload for SLL2.
func arpRequest() []byte {
	return []byte{
		0, 1, 8, 0, 6, 4, 0, 1, // Ethernet, IPv4, sizes, request
		0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1, // sender MAC, IP
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2, // target MAC, IP
	}
}

// nflogPacket is a LINKTYPE_NFLOG packet as libpcap writes it: nfgenmsg
// (family, version, big-endian group), then TLVs whose length and type are
// in host order, each padded to 4 bytes.
func nflogPacket(family byte, group uint16, prefix string, hwProtocol uint16, payload []byte) []byte {
	b := []byte{family, 0, byte(group >> 8), byte(group)}
	tlv := func(typ uint16, v []byte) {
		var h [4]byte
		binary.NativeEndian.PutUint16(h[:], uint16(4+len(v)))
		binary.NativeEndian.PutUint16(h[2:], typ)
		b = append(b, h[:]...)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	tlv(1, []byte{byte(hwProtocol >> 8), byte(hwProtocol), 1, 0}) // NFULA_PACKET_HDR, hook INPUT
	tlv(10, append([]byte(prefix), 0))                            // NFULA_PREFIX
	tlv(9, payload)                                               // NFULA_PAYLOAD
	return b
}

// sll2Header is a LINKTYPE_LINUX_SLL2 header: protocol, reserved, interface
// index, ARPHRD type, packet type (0 to us, 4 outgoing), address.
func sll2Header(protocol uint16, ifindex uint32, packetType byte, mac []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, protocol)
	binary.BigEndian.PutUint32(h[4:], ifindex)
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = packetType
	h[11] = byte(copy(h[12:], mac))
	return h
}

// clockAt returns a clock that gives each time in turn, then repeats the last.
func clockAt(times ...time.Time) func() time.Time {
	return func() time.Time {
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return t
	}
}

// op is one step of a test stream: add an interface, write a packet, or add
// drops.
type op struct {
	ifc        *Interface
	pkt        *Packet
	dropsIface int
	drops      uint64
}

func apply(w *Writer, ops []op) error {
	for _, o := range ops {
		switch {
		case o.ifc != nil:
			if _, err := w.AddInterface(o.ifc); err != nil {
				return err
			}
		case o.pkt != nil:
			if err := w.WritePacket(o.pkt); err != nil {
				return err
			}
		default:
			w.AddDrops(o.dropsIface, o.drops)
		}
	}
	return nil
}

var (
	goldenStart = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	goldenEnd   = goldenStart.Add(90*time.Second + 987654321)
)

func goldenOptions() *WriterOptions {
	return &WriterOptions{
		Application: "nflogcap test",
		OS:          "Linux 6.18.0-golden",
		Hardware:    "x86_64",
		Comment:     "golden stream: every link type, options, drops",
		Clock:       clockAt(goldenStart, goldenEnd),
	}
}

// goldenOps is the stream in testdata/pcapng/stream.pcapng. Comments and
// data have lengths that are not multiples of 4, to exercise padding.
func goldenOps() []op {
	ts := func(ms int64) int64 { return goldenStart.UnixNano() + ms*1e6 + 789 }
	mac := []byte{0x02, 0, 0, 0, 0, 0x01}
	v4 := ipv4UDP("10.0.0.1", "10.0.0.2", 51000, 52000, "query")
	v6 := ipv6UDP("2001:db8::1", "2001:db8::2", 51001, 52001, "hello, six")
	return []op{
		{ifc: &Interface{LinkType: LinkTypeRaw, Name: "nflog:1", Description: `NFLOG group 1, prefix "in-drop"`,
			SnapLen: 65535, OS: "Linux 6.18.0-golden", Filter: "udp port 53", Hardware: "nflog", Comment: "raw IP from group 1"}},
		{ifc: &Interface{LinkType: LinkTypeNFLOG, Name: "nflog:2", Description: "NFLOG group 2, TLVs", OS: "Linux 6.18.0-golden"}},
		{ifc: &Interface{LinkType: LinkTypeLinuxSLL2, Name: "nflog:3", Description: "NFLOG group 3 as SLL2", SnapLen: 65555}},
		{pkt: &Packet{Interface: 0, Timestamp: ts(1), Data: v4, Flags: FlagInbound,
			HasDropCount: true, HasPacketID: true, Comment: []byte("first packet")}},
		{pkt: &Packet{Interface: 0, Timestamp: ts(2), Data: v6, Flags: FlagOutbound,
			DropCount: 3, PacketID: 1, HasPacketID: true, Comment: []byte("après 3 pertes ✓")}},
		{pkt: &Packet{Interface: 1, Timestamp: ts(3), Data: nflogPacket(2, 2, "nft-in", 0x0800, v4),
			PacketID: 7, HasPacketID: true}},
		{pkt: &Packet{Interface: 2, Timestamp: ts(4), LinkHeader: sll2Header(0x0800, 3, 0, mac), Data: v4,
			Flags: FlagInbound, Comment: []byte("sll2 inbound")}},
		{pkt: &Packet{Interface: 2, Timestamp: ts(5), LinkHeader: sll2Header(0x86DD, 3, 4, mac), Data: v6[:45],
			OriginalLength: 20 + len(v6), Flags: FlagOutbound, Comment: []byte("truncated to 65 bytes")}},
		{ifc: &Interface{LinkType: LinkTypeRaw, Name: "nflog:4 late", Description: "added after packets started"}},
		{pkt: &Packet{Interface: 3, Timestamp: ts(6), Data: v4}},
		{pkt: &Packet{Interface: 0, Timestamp: ts(7), Data: v4, Flags: FlagInbound, DropCount: 2}},
		{ifc: &Interface{LinkType: LinkTypeNFLOG, Name: "nflog:5", Description: "late NFLOG"}},
		{ifc: &Interface{LinkType: LinkTypeLinuxSLL2, Name: "nflog:6", Description: "late SLL2"}},
		{pkt: &Packet{Interface: 4, Timestamp: ts(8), Data: nflogPacket(10, 5, "v6", 0x86DD, v6),
			Flags: FlagInbound, Comment: []byte{}}},
		{pkt: &Packet{Interface: 5, Timestamp: ts(9), LinkHeader: sll2Header(0x0806, 4, 1, mac), Data: arpRequest(),
			Flags: FlagInbound, PacketID: 42, HasPacketID: true, Comment: []byte("ARP, not IP")}},
		{pkt: &Packet{Interface: 1, Timestamp: ts(10), Data: nflogPacket(2, 2, "nft-in", 0x0800, v4), DropCount: 1}},
		{dropsIface: 1, drops: 5},
		{dropsIface: 5, drops: 2},
	}
}

// goldenStream returns the bytes of the golden stream as the Writer makes them.
func goldenStream() ([]byte, error) {
	var buf bytesBuffer
	w := NewWriter(&buf, goldenOptions())
	if err := apply(w, goldenOps()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.b, nil
}

// bytesBuffer is a minimal io.Writer that keeps what is written.
type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}
