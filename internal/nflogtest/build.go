// Package nflogtest builds kernel-format NFLOG messages for tests and
// fuzzing: the inverse of nflog's parser, written independently of it from
// the uapi header layout (include/uapi/linux/netfilter/nfnetlink_log.h).
package nflogtest

import (
	"encoding/binary"

	"github.com/nflogcap/nflogcap/nflog"
)

// AppendAttr appends a netlink attribute (host-order header, value padded
// to 4 bytes).
func AppendAttr(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// BE16 and BE32 are attribute integers, which the kernel sends in network
// order.
func BE16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func BE32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Packet encodes ev as one NFULNL_MSG_PACKET message, netlink header
// included, with the attributes ev.Present names, in the kernel's order
// (__build_packet_message: header, prefix, devices, mark, hardware, time,
// owner, sequence numbers, VLAN, L2 header, conntrack, payload last).
func Packet(ev *nflog.Event) []byte {
	body := []byte{byte(ev.Family), 0}
	body = binary.BigEndian.AppendUint16(body, ev.Group)
	body = AppendAttr(body, 1, append(BE16(ev.HWProtocol), ev.Hook, 0))
	put := func(a nflog.Attr, typ uint16, v []byte) {
		if ev.Has(a) {
			body = AppendAttr(body, typ, v)
		}
	}
	put(nflog.AttrPrefix, 10, append(append([]byte(nil), ev.Prefix...), 0))
	put(nflog.AttrInDev, 4, BE32(ev.InDev))
	put(nflog.AttrPhysInDev, 6, BE32(ev.PhysInDev))
	put(nflog.AttrOutDev, 5, BE32(ev.OutDev))
	put(nflog.AttrPhysOutDev, 7, BE32(ev.PhysOutDev))
	put(nflog.AttrMark, 2, BE32(ev.Mark))
	if ev.Has(nflog.AttrHWAddr) {
		// The kernel's struct holds 8 address bytes; a longer address
		// (which the parser takes when its attribute holds it) gets room.
		hw := make([]byte, 4+max(8, len(ev.HWAddr)))
		binary.BigEndian.PutUint16(hw, uint16(len(ev.HWAddr)))
		copy(hw[4:], ev.HWAddr)
		body = AppendAttr(body, 8, hw)
	}
	put(nflog.AttrHWType, 15, BE16(ev.HWType))
	put(nflog.AttrHWLen, 17, BE16(ev.HWLen))
	put(nflog.AttrHWHeader, 16, ev.HWHeader)
	if ev.Has(nflog.AttrTimestamp) {
		ts := binary.BigEndian.AppendUint64(nil, uint64(ev.Time.Unix()))
		ts = binary.BigEndian.AppendUint64(ts, uint64(ev.Time.Nanosecond()/1000))
		body = AppendAttr(body, 3, ts)
	}
	put(nflog.AttrUID, 11, BE32(ev.UID))
	put(nflog.AttrGID, 14, BE32(ev.GID))
	put(nflog.AttrSeq, 12, BE32(ev.Seq))
	put(nflog.AttrSeqGlobal, 13, BE32(ev.SeqGlobal))
	if ev.Has(nflog.AttrVLAN) {
		var v []byte
		v = AppendAttr(v, 2, BE16(ev.VLANTCI))
		v = AppendAttr(v, 1, BE16(ev.VLANProto))
		body = AppendAttr(body, 20|0x8000, v)
	}
	put(nflog.AttrL2Header, 21, ev.L2Header)
	put(nflog.AttrCT, 18|0x8000, ev.CT) // nested, as the kernel flags it
	put(nflog.AttrCTInfo, 19, BE32(ev.CTInfo))
	put(nflog.AttrPayload, 9, ev.Payload)
	return Message(4<<8, body) // NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET
}

// Message wraps body in a netlink header of type typ (sequence and port 0).
func Message(typ uint16, body []byte) []byte {
	m := binary.NativeEndian.AppendUint32(nil, uint32(16+len(body)))
	m = binary.NativeEndian.AppendUint16(m, typ)
	m = binary.NativeEndian.AppendUint16(m, 0)
	m = binary.NativeEndian.AppendUint32(m, 0) // seq
	m = binary.NativeEndian.AppendUint32(m, 0) // port
	return append(m, body...)
}

// Done is the NLMSG_DONE that closes a kernel batch.
func Done() []byte { return Message(3, []byte{0, 0, 0, 0}) }
