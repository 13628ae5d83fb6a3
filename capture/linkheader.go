package capture

import (
	"encoding/binary"

	"github.com/nflogcap/nflogcap/nflog"
)

// sll2HeaderLen is the size of a LINKTYPE_LINUX_SLL2 header.
const sll2HeaderLen = 20

// SLL2 packet types (the sll_pkttype values of packet(7)).
const (
	sll2Host      = 0 // to us
	sll2OtherHost = 3 // to someone else: forwarded
	sll2Outgoing  = 4 // from us
)

// arphrdNone is the ARPHRD type written when the kernel sends none (packets
// logged on the output path carry no hardware type).
const arphrdNone = 0xfffe

// putSLL2 writes the LINUX_SLL2 header for ev into b: protocol, interface
// (input for inbound packets, else output), ARPHRD type, direction, and
// source hardware address.
func putSLL2(b *[sll2HeaderLen]byte, ev *nflog.Event) {
	*b = [sll2HeaderLen]byte{}
	binary.BigEndian.PutUint16(b[0:], ev.HWProtocol)
	ifindex := ev.InDev
	pktType := byte(sll2OtherHost)
	switch ev.Direction() {
	case nflog.DirInbound:
		pktType = sll2Host
	case nflog.DirOutbound:
		pktType = sll2Outgoing
		ifindex = ev.OutDev
	}
	if ifindex == 0 {
		ifindex = max(ev.InDev, ev.OutDev)
	}
	binary.BigEndian.PutUint32(b[4:], ifindex)
	hatype := uint16(arphrdNone)
	if ev.Has(nflog.AttrHWType) {
		hatype = ev.HWType
	}
	binary.BigEndian.PutUint16(b[8:], hatype)
	b[10] = pktType
	n := copy(b[12:], ev.HWAddr)
	b[11] = byte(n)
}

// ipTotalLength returns the packet's length on the wire from its IPv4 or
// IPv6 header, for payloads cut by a snaplen; ok is false when the bytes do
// not start with such a header (or it is an IPv6 jumbogram).
func ipTotalLength(p []byte) (n int, ok bool) {
	if len(p) == 0 {
		return 0, false
	}
	switch p[0] >> 4 {
	case 4:
		if len(p) >= 20 {
			return int(binary.BigEndian.Uint16(p[2:])), true
		}
	case 6:
		if len(p) >= 40 {
			if pl := int(binary.BigEndian.Uint16(p[4:])); pl > 0 {
				return 40 + pl, true
			}
		}
	}
	return 0, false
}

// rawCarries reports whether LINKTYPE_RAW can carry ev's payload: an IP
// packet of the family the kernel says it is.
func rawCarries(ev *nflog.Event) bool {
	if len(ev.Payload) == 0 {
		return false
	}
	switch ev.Family {
	case nflog.FamilyIPv4:
		return ev.Payload[0]>>4 == 4
	case nflog.FamilyIPv6:
		return ev.Payload[0]>>4 == 6
	}
	return false
}
