package capture

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

// Builders of kernel-format NFLOG messages for the encoder's unit tests and
// fuzzing, written from the uapi header layout (see NFLOG-FACTS.md). Events
// are built as the kernel would send them and parsed back with
// nflog.ParseDatagram, so Raw, Present and TimeSource agree with the fields,
// as they do for events from a real socket.

func appendNLA(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func nlaBE16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func nlaBE32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// buildMessage encodes ev as one NFULNL_MSG_PACKET message, netlink header
// included, with the attributes ev.Present names, in the kernel's order
// (__build_packet_message: header, prefix, devices, mark, hardware, time,
// owner, sequence numbers, conntrack, payload last).
func buildMessage(ev *nflog.Event) []byte {
	body := []byte{byte(ev.Family), 0}
	body = binary.BigEndian.AppendUint16(body, ev.Group)
	body = appendNLA(body, 1, append(nlaBE16(ev.HWProtocol), ev.Hook, 0))
	put := func(a nflog.Attr, typ uint16, v []byte) {
		if ev.Has(a) {
			body = appendNLA(body, typ, v)
		}
	}
	put(nflog.AttrPrefix, 10, append(append([]byte(nil), ev.Prefix...), 0))
	put(nflog.AttrInDev, 4, nlaBE32(ev.InDev))
	put(nflog.AttrOutDev, 5, nlaBE32(ev.OutDev))
	put(nflog.AttrPhysInDev, 6, nlaBE32(ev.PhysInDev))
	put(nflog.AttrPhysOutDev, 7, nlaBE32(ev.PhysOutDev))
	put(nflog.AttrMark, 2, nlaBE32(ev.Mark))
	if ev.Has(nflog.AttrHWAddr) {
		hw := make([]byte, 4+8)
		binary.BigEndian.PutUint16(hw, uint16(len(ev.HWAddr)))
		copy(hw[4:], ev.HWAddr)
		body = appendNLA(body, 8, hw)
	}
	put(nflog.AttrHWType, 15, nlaBE16(ev.HWType))
	if ev.Has(nflog.AttrTimestamp) {
		ts := binary.BigEndian.AppendUint64(nil, uint64(ev.Time.Unix()))
		ts = binary.BigEndian.AppendUint64(ts, uint64(ev.Time.Nanosecond()/1000))
		body = appendNLA(body, 3, ts)
	}
	put(nflog.AttrUID, 11, nlaBE32(ev.UID))
	put(nflog.AttrGID, 14, nlaBE32(ev.GID))
	put(nflog.AttrSeq, 12, nlaBE32(ev.Seq))
	put(nflog.AttrSeqGlobal, 13, nlaBE32(ev.SeqGlobal))
	put(nflog.AttrCTInfo, 19, nlaBE32(ev.CTInfo))
	put(nflog.AttrPayload, 9, ev.Payload)
	m := binary.NativeEndian.AppendUint32(nil, uint32(16+len(body)))
	m = binary.NativeEndian.AppendUint16(m, 4<<8) // NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET
	m = binary.NativeEndian.AppendUint16(m, 0)
	m = binary.NativeEndian.AppendUint64(m, 0) // seq, port id
	return append(m, body...)
}

// testRecvTime is the receive time of built events: what packets without
// a kernel timestamp get.
var testRecvTime = time.Unix(1764786000, 123456789)

// kernelEvent builds ev as the kernel would send it and returns the parsed
// event. Present gets the attributes of the fields that are set (a prefix,
// devices, payload, hardware address...), plus what ev.Present already
// names (for fields whose zero value is meaningful: mark, uid, gid, seq,
// time). LostBefore is kept, as the listener sets it.
func kernelEvent(t testing.TB, ev nflog.Event) nflog.Event {
	t.Helper()
	for _, f := range []struct {
		set bool
		a   nflog.Attr
	}{
		{len(ev.Prefix) > 0, nflog.AttrPrefix}, {ev.InDev != 0, nflog.AttrInDev}, {ev.OutDev != 0, nflog.AttrOutDev},
		{ev.PhysInDev != 0, nflog.AttrPhysInDev}, {ev.PhysOutDev != 0, nflog.AttrPhysOutDev},
		{len(ev.HWAddr) > 0, nflog.AttrHWAddr}, {len(ev.Payload) > 0, nflog.AttrPayload},
	} {
		if f.set {
			ev.Present |= f.a
		}
	}
	msg := buildMessage(&ev)
	evs, err := nflog.ParseDatagram(msg, testRecvTime, nil)
	if err != nil || len(evs) != 1 {
		t.Fatalf("built message does not parse back: %d events, %v", len(evs), err)
	}
	evs[0].LostBefore = ev.LostBefore
	return evs[0]
}

// ipv4Packet is an IPv4/UDP packet whose header says it is total bytes
// long, cut to its first n bytes (a snaplen); n = total for all of it.
func ipv4Packet(total, n int) []byte {
	p := make([]byte, max(total, n, 28))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(total))
	p[8], p[9] = 64, 17
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(p[20:], 40000)
	binary.BigEndian.PutUint16(p[22:], 9999)
	binary.BigEndian.PutUint16(p[24:], uint16(total-20))
	return p[:n]
}

// ipv6Packet is an IPv6/UDP packet of total bytes (header included), cut
// to its first n bytes.
func ipv6Packet(total, n int) []byte {
	p := make([]byte, max(total, n, 48))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(total-40))
	p[6], p[7] = 17, 64
	p[23], p[39] = 1, 2 // ::1 > ::2
	binary.BigEndian.PutUint16(p[40:], 40000)
	binary.BigEndian.PutUint16(p[42:], 9999)
	binary.BigEndian.PutUint16(p[44:], uint16(total-40))
	return p[:n]
}

// arpRequest is an ARP request for IPv4 over Ethernet: 10.0.0.2 asks for
// 10.0.0.1.
func arpRequest() []byte {
	return []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1}
}
