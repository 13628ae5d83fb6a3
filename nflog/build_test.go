package nflog_test

import (
	"encoding/binary"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

// Builders of kernel-format messages for unit tests and fuzzing: the inverse
// of the parser, written independently of it from the uapi header layout.

func appendTestAttr(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// buildPacket encodes ev as an NFULNL_MSG_PACKET message (netlink header
// included), writing the attributes ev.Present names.
func buildPacket(ev *nflog.Event) []byte {
	body := []byte{byte(ev.Family), 0}
	body = binary.BigEndian.AppendUint16(body, ev.Group)
	hdr := append(be16(ev.HWProtocol), ev.Hook, 0)
	body = appendTestAttr(body, 1, hdr)
	put := func(a nflog.Attr, typ uint16, v []byte) {
		if ev.Has(a) {
			body = appendTestAttr(body, typ, v)
		}
	}
	put(nflog.AttrMark, 2, be32(ev.Mark))
	if ev.Has(nflog.AttrTimestamp) {
		ts := binary.BigEndian.AppendUint64(nil, uint64(ev.Time.Unix()))
		ts = binary.BigEndian.AppendUint64(ts, uint64(ev.Time.Nanosecond()/1000))
		body = appendTestAttr(body, 3, ts)
	}
	put(nflog.AttrInDev, 4, be32(ev.InDev))
	put(nflog.AttrOutDev, 5, be32(ev.OutDev))
	put(nflog.AttrPhysInDev, 6, be32(ev.PhysInDev))
	put(nflog.AttrPhysOutDev, 7, be32(ev.PhysOutDev))
	if ev.Has(nflog.AttrHWAddr) {
		// The kernel's struct holds 8 address bytes; a longer address
		// (which the parser takes when its attribute holds it) gets room.
		hw := make([]byte, 4+max(8, len(ev.HWAddr)))
		binary.BigEndian.PutUint16(hw, uint16(len(ev.HWAddr)))
		copy(hw[4:], ev.HWAddr)
		body = appendTestAttr(body, 8, hw)
	}
	put(nflog.AttrPayload, 9, ev.Payload)
	put(nflog.AttrPrefix, 10, append(append([]byte(nil), ev.Prefix...), 0))
	put(nflog.AttrUID, 11, be32(ev.UID))
	put(nflog.AttrSeq, 12, be32(ev.Seq))
	put(nflog.AttrSeqGlobal, 13, be32(ev.SeqGlobal))
	put(nflog.AttrGID, 14, be32(ev.GID))
	put(nflog.AttrHWType, 15, be16(ev.HWType))
	put(nflog.AttrHWHeader, 16, ev.HWHeader)
	put(nflog.AttrHWLen, 17, be16(ev.HWLen))
	put(nflog.AttrCT, 18|0x8000, ev.CT) // nested, as the kernel flags it
	put(nflog.AttrCTInfo, 19, be32(ev.CTInfo))
	if ev.Has(nflog.AttrVLAN) {
		var v []byte
		v = appendTestAttr(v, 2, be16(ev.VLANTCI))
		v = appendTestAttr(v, 1, be16(ev.VLANProto))
		body = appendTestAttr(body, 20|0x8000, v)
	}
	put(nflog.AttrL2Header, 21, ev.L2Header)
	return wrapMessage(4<<8, body)
}

func wrapMessage(typ uint16, body []byte) []byte {
	m := binary.NativeEndian.AppendUint32(nil, uint32(16+len(body)))
	m = binary.NativeEndian.AppendUint16(m, typ)
	m = binary.NativeEndian.AppendUint16(m, 0)
	m = binary.NativeEndian.AppendUint32(m, 0) // seq
	m = binary.NativeEndian.AppendUint32(m, 0) // port
	return append(m, body...)
}

// doneMessage is the NLMSG_DONE that closes a kernel batch.
func doneMessage() []byte { return wrapMessage(3, []byte{0, 0, 0, 0}) }

// fullEvent has every attribute, for tests that need all of them.
func fullEvent() nflog.Event {
	return nflog.Event{
		Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: nflog.HookForward,
		Present: nflog.AttrPacketHdr | nflog.AttrMark | nflog.AttrTimestamp | nflog.AttrInDev | nflog.AttrOutDev |
			nflog.AttrPhysInDev | nflog.AttrPhysOutDev | nflog.AttrHWAddr | nflog.AttrPayload | nflog.AttrPrefix |
			nflog.AttrUID | nflog.AttrSeq | nflog.AttrSeqGlobal | nflog.AttrGID | nflog.AttrHWType |
			nflog.AttrHWHeader | nflog.AttrHWLen | nflog.AttrCT | nflog.AttrCTInfo | nflog.AttrVLAN | nflog.AttrL2Header,
		Time: time.Unix(1764787200, 123456000), TimeSource: nflog.TimeKernel,
		Mark: 0x2a, InDev: 3, OutDev: 4, PhysInDev: 5, PhysOutDev: 6, UID: 1000, GID: 100, Seq: 41, SeqGlobal: 99,
		HWAddr: []byte{2, 0, 0, 0, 0, 1}, HWType: 1, HWLen: 14, HWHeader: make([]byte, 14),
		Prefix: []byte("ssh-drop"), Payload: []byte{0x45, 0, 0, 20, 1, 2, 3, 4},
		CT: appendTestAttr(nil, 1|0x8000, appendTestAttr(nil, 1, be32(0x7f000001))), CTInfo: 2,
		VLANProto: 0x8100, VLANTCI: 100, L2Header: make([]byte, 14),
	}
}
