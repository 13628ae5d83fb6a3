package nflog_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/nflogcap/nflogcap/internal/nflogtest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/nflog"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures were recorded on a little-endian host")
	}
	b, err := os.ReadFile(filepath.Join("../testdata/nflog", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseFixtures checks what the parser makes of real kernel datagrams.
func TestParseFixtures(t *testing.T) {
	recv := time.Unix(1800000000, 0)
	tests := []struct {
		file  string
		n     int
		check func(t *testing.T, evs []nflog.Event)
	}{
		{"ipv4-input-seq.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyIPv4 && ev.Group == 5000 && string(ev.Prefix) == "in", "ipv4 group 5000 prefix in: %v %d %q", ev.Family, ev.Group, ev.Prefix)
			want(t, ev.HookName() == "input" && ev.HWProtocol == 0x0800 && ev.InDev != 0 && ev.OutDev == 0, "input on an interface: %s %#x %d %d", ev.HookName(), ev.HWProtocol, ev.InDev, ev.OutDev)
			want(t, ev.Has(nflog.AttrSeq) && ev.Seq == 0 && ev.Has(nflog.AttrSeqGlobal), "seq 0 and a global seq: %v %d %v", ev.Has(nflog.AttrSeq), ev.Seq, ev.Has(nflog.AttrSeqGlobal))
			want(t, ev.TimeSource == nflog.TimeKernel && ev.Time.Year() == 2026, "kernel timestamp from 2026: %v %v", ev.TimeSource, ev.Time)
			want(t, len(ev.Payload) == 44 && ev.Payload[0] == 0x45 && ev.Payload[9] == 17, "44-byte IPv4/UDP payload: %x", ev.Payload)
		}},
		{"ipv6-output-mark.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyIPv6 && string(ev.Prefix) == "out" && ev.HookName() == "output", "ipv6 out output: %v %q %s", ev.Family, ev.Prefix, ev.HookName())
			want(t, ev.Mark == 0x2a && ev.Has(nflog.AttrUID) && ev.Has(nflog.AttrGID) && ev.OutDev != 0, "mark 0x2a, uid, gid, out: %#x %v %d", ev.Mark, ev.Has(nflog.AttrUID), ev.OutDev)
			want(t, ev.TimeSource == nflog.TimeReceived && ev.Time.Equal(recv), "receive time stands in: %v %v", ev.TimeSource, ev.Time)
			want(t, len(ev.Payload) == 64 && ev.Payload[0]>>4 == 6, "64-byte IPv6 payload: %d", len(ev.Payload))
		}},
		{"meta.bin", 1, func(t *testing.T, evs []nflog.Event) {
			want(t, !evs[0].Has(nflog.AttrPayload) && evs[0].Payload == nil, "no payload in meta mode")
		}},
		{"snaplen-40.bin", 1, func(t *testing.T, evs []nflog.Event) {
			p := evs[0].Payload
			want(t, len(p) == 40 && binary.BigEndian.Uint16(p[2:]) == 228, "40 of 228 bytes: %d, IP total length %d", len(p), binary.BigEndian.Uint16(p[2:]))
		}},
		{"batch-5.bin", 5, func(t *testing.T, evs []nflog.Event) {
			for i, ev := range evs {
				want(t, ev.Seq == uint32(i) && string(ev.Prefix) == "in", "event %d: seq %d prefix %q", i, ev.Seq, ev.Prefix)
			}
		}},
		{"arp.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyARP && ev.HWProtocol == 0x0806 && ev.HookName() == "input" && ev.Direction() == nflog.DirInbound, "arp input: %v %#x %s", ev.Family, ev.HWProtocol, ev.HookName())
			want(t, len(ev.Payload) == 28 && len(ev.HWAddr) == 6 && ev.HWType == 1 && ev.HWLen == 14 && len(ev.HWHeader) == 14, "arp packet with hardware fields: %d %x %d %d %d", len(ev.Payload), ev.HWAddr, ev.HWType, ev.HWLen, len(ev.HWHeader))
			want(t, bytes.Equal(ev.HWAddr, ev.HWHeader[6:12]), "hw addr %x is the header's source %x", ev.HWAddr, ev.HWHeader[6:12])
		}},
		{"bridge.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyBridge && ev.HookName() == "input" && ev.InDev != 0 && ev.PhysInDev != 0 && ev.InDev != ev.PhysInDev, "bridge input via a port: %v %s %d %d", ev.Family, ev.HookName(), ev.InDev, ev.PhysInDev)
			want(t, len(ev.L2Header) == 14 && binary.BigEndian.Uint16(ev.L2Header[12:]) == 0x0800, "ethernet L2 header: %x", ev.L2Header)
		}},
		{"netdev.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyNetdev && ev.HookName() == "ingress" && len(ev.L2Header) == 14 && !ev.Has(nflog.AttrVLAN), "netdev ingress: %v %s %d", ev.Family, ev.HookName(), len(ev.L2Header))
		}},
		{"netdev-vlan.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Has(nflog.AttrVLAN) && ev.VLANProto == 0x8100 && ev.VLANTCI&0xfff == 100, "VLAN 100: %v %#x %#x", ev.Has(nflog.AttrVLAN), ev.VLANProto, ev.VLANTCI)
		}},
		{"inet.bin", 1, func(t *testing.T, evs []nflog.Event) {
			ev := evs[0]
			want(t, ev.Family == nflog.FamilyIPv4 && string(ev.Prefix) == "inet" && ev.PhysInDev != 0 && ev.InDev != ev.PhysInDev, "ipv4 through a bridge: %v %q %d %d", ev.Family, ev.Prefix, ev.InDev, ev.PhysInDev)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := readFixture(t, tt.file)
			evs, err := nflog.ParseDatagram(b, recv, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tt.n {
				t.Fatalf("%d events, want %d", len(evs), tt.n)
			}
			for _, ev := range evs {
				if !ev.Has(nflog.AttrPacketHdr) || len(ev.Raw) == 0 || &ev.Raw[0] != &b[16] && tt.n == 1 {
					t.Errorf("raw message is not a view of the datagram")
				}
			}
			tt.check(t, evs)
		})
	}
}

func want(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf("want "+format, args...)
	}
}

// A batch ends with NLMSG_DONE, which carries no event.
func TestParseBatchEndsWithDone(t *testing.T) {
	b := readFixture(t, "batch-5.bin")
	last := b[len(b)-20:]
	if binary.NativeEndian.Uint32(last) != 20 || binary.NativeEndian.Uint16(last[4:]) != 3 {
		t.Fatalf("fixture does not end with NLMSG_DONE: %x", last)
	}
	built := nflogtest.Packet(&nflog.Event{Family: nflog.FamilyIPv4, Present: nflog.AttrPacketHdr})
	evs, err := nflog.ParseDatagram(append(append(built, nflogtest.Done()...), built...), time.Now(), nil)
	if err != nil || len(evs) != 2 {
		t.Fatalf("got %d events, %v; want 2 around a DONE", len(evs), err)
	}
}

// ParseDatagram appends to dst, as it says: events already there stay.
func TestParseDatagramAppends(t *testing.T) {
	one := nflogtest.Packet(&nflog.Event{Family: nflog.FamilyIPv4, Group: 1, Present: nflog.AttrPacketHdr})
	two := nflogtest.Packet(&nflog.Event{Family: nflog.FamilyIPv6, Group: 2, Present: nflog.AttrPacketHdr})
	evs, err := nflog.ParseDatagram(one, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, err = nflog.ParseDatagram(two, time.Now(), evs)
	if err != nil || len(evs) != 2 || evs[0].Group != 1 || evs[1].Group != 2 {
		t.Fatalf("got %d events (%v), want group 1 then group 2", len(evs), err)
	}
}

// Every attribute survives encoding and parsing, including those this
// kernel cannot produce (conntrack).
func TestParseAllAttributes(t *testing.T) {
	ev := fullEvent()
	evs, err := nflog.ParseDatagram(nflogtest.Packet(&ev), time.Now(), nil)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	got := evs[0]
	got.Raw = nil
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("parsed\n%+v\nwant\n%+v", got, ev)
	}
	if got.CTState() != "new" || got.Direction() != nflog.DirUnknown || got.HookName() != "forward" {
		t.Errorf("state %q direction %v hook %s", got.CTState(), got.Direction(), got.HookName())
	}
}

func TestParseMalformed(t *testing.T) {
	good := nflogtest.Packet(&nflog.Event{Family: nflog.FamilyIPv4, Present: nflog.AttrPacketHdr | nflog.AttrPrefix, Prefix: []byte("x")})
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name   string
		b      []byte
		events int
	}{
		{"message length past the end", mutate(func(b []byte) []byte { binary.NativeEndian.PutUint32(b, 999); return b }), 0},
		{"message length below header", mutate(func(b []byte) []byte { binary.NativeEndian.PutUint32(b, 8); return b }), 0},
		{"trailing bytes", append(append([]byte(nil), good...), 1, 2, 3), 1},
		{"no nfgenmsg", nflogtest.Message(4<<8, []byte{2, 0}), 0},
		{"attribute length past the end", mutate(func(b []byte) []byte { binary.NativeEndian.PutUint16(b[20:], 200); return b }), 0},
		{"attribute length below header", mutate(func(b []byte) []byte { binary.NativeEndian.PutUint16(b[20:], 2); return b }), 0},
		{"no packet header", nflogtest.Message(4<<8, nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 2, nflogtest.BE32(1))), 0},
		{"short packet header", nflogtest.Message(4<<8, nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 1, []byte{8, 0})), 0},
		{"mark of 3 bytes", nflogtest.Message(4<<8, nflogtest.AppendAttr(nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 1, []byte{8, 0, 1, 0}), 2, []byte{1, 2, 3})), 0},
		{"timestamp of 8 bytes", nflogtest.Message(4<<8, nflogtest.AppendAttr(nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 1, []byte{8, 0, 1, 0}), 3, make([]byte, 8))), 0},
		{"hw address longer than attribute", nflogtest.Message(4<<8, nflogtest.AppendAttr(nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 1, []byte{8, 0, 1, 0}), 8, []byte{0, 20, 0, 0, 1})), 0},
		{"bad nested vlan", nflogtest.Message(4<<8, nflogtest.AppendAttr(nflogtest.AppendAttr([]byte{2, 0, 0, 1}, 1, []byte{8, 0, 1, 0}), 20, []byte{9, 0})), 0},
		{"bad message, then a good one", append(append(nflogtest.Message(4<<8, []byte{2, 0, 0}), 0), good...), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := nflog.ParseDatagram(tt.b, time.Now(), nil)
			var pe *nflog.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if len(evs) != tt.events {
				t.Errorf("%d events, want %d", len(evs), tt.events)
			}
			t.Log(err)
		})
	}
}

// Every truncation of real datagrams parses to an error or a subset, and
// never panics.
func TestParseTruncated(t *testing.T) {
	files, _ := filepath.Glob("../testdata/nflog/*.bin")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		b := readFixture(t, filepath.Base(f))
		full, _ := nflog.ParseDatagram(b, time.Now(), nil)
		for n := range len(b) {
			evs, err := nflog.ParseDatagram(b[:n], time.Now(), nil)
			if len(evs) > len(full) {
				t.Fatalf("%s[:%d]: %d events from a prefix of a %d-event datagram", f, n, len(evs), len(full))
			}
			if err == nil && n%4 != 0 && n > 0 {
				t.Fatalf("%s[:%d]: no error for a cut datagram", f, n)
			}
		}
	}
}

func TestParseZeroAllocs(t *testing.T) {
	b := readFixture(t, "batch-5.bin")
	dst := make([]nflog.Event, 0, 8)
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		dst, _ = nflog.ParseDatagram(b, now, dst[:0])
	})
	if allocs != 0 || len(dst) != 5 {
		t.Fatalf("%v allocations per datagram (%d events), want 0", allocs, len(dst))
	}
}

// bigBatch is a datagram like the kernel's with QThresh 64: 64 packets of
// size bytes, then NLMSG_DONE.
func bigBatch(size int) []byte {
	var b []byte
	for i := range 64 {
		ev := fullEvent()
		ev.Present &^= nflog.AttrCT | nflog.AttrCTInfo | nflog.AttrVLAN | nflog.AttrL2Header | nflog.AttrPhysInDev | nflog.AttrPhysOutDev
		ev.Seq = uint32(i)
		ev.Payload = make([]byte, size)
		b = append(b, nflogtest.Packet(&ev)...)
	}
	return append(b, nflogtest.Done()...)
}

func BenchmarkParseDatagram(b *testing.B) {
	for _, size := range []int{64, 1400} {
		b.Run(map[int]string{64: "64B", 1400: "1400B"}[size], func(b *testing.B) {
			dg := bigBatch(size)
			dst := make([]nflog.Event, 0, 64)
			now := time.Now()
			b.SetBytes(int64(len(dg)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = nflog.ParseDatagram(dg, now, dst[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/packet")
		})
	}
}

func FuzzParseDatagram(f *testing.F) {
	files, _ := filepath.Glob("../testdata/nflog/*.bin")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	ev := fullEvent()
	f.Add(nflogtest.Packet(&ev))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, _ := nflog.ParseDatagram(b, time.Unix(1, 0), nil)
		for _, ev := range evs {
			if len(ev.Raw) < 4 || len(ev.Payload) > len(ev.Raw) || len(ev.Prefix) > len(ev.Raw) {
				t.Fatalf("event slices outside its message: raw %d payload %d prefix %d", len(ev.Raw), len(ev.Payload), len(ev.Prefix))
			}
			if !ev.Has(nflog.AttrPacketHdr) {
				t.Fatal("event without packet header")
			}
			// Whatever parsed must parse the same once re-encoded.
			re, err := nflog.ParseDatagram(nflogtest.Packet(&ev), time.Unix(1, 0), nil)
			if err != nil || len(re) != 1 {
				t.Fatalf("re-encoded event: %d events, %v", len(re), err)
			}
			re[0].Raw, ev.Raw = nil, nil
			if !reflect.DeepEqual(re[0], ev) {
				t.Fatalf("re-encoded event differs:\n%+v\n%+v", re[0], ev)
			}
		}
	})
}
