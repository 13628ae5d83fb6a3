package capture

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/nflogtest"
	"github.com/nflogcap/nflogcap/nflog"
)

// Events for the encoder's unit tests and fuzzing are built as the kernel
// would send them (internal/nflogtest) and parsed back with
// nflog.ParseDatagram, so Raw, Present and TimeSource agree with the fields,
// as they do for events from a real socket.

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
	msg := nflogtest.Packet(&ev)
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
