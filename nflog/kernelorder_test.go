package nflog_test

import (
	"encoding/binary"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/nflogtest"
	"github.com/nflogcap/nflogcap/nflog"
)

// attrsOf returns the attribute bytes of each packet message in a datagram.
func attrsOf(t testing.TB, dg []byte) [][]byte {
	var out [][]byte
	for off := 0; off+16 <= len(dg); {
		l := int(binary.NativeEndian.Uint32(dg[off:]))
		if l < 16 || off+l > len(dg) {
			t.Fatalf("bad message length %d at %d", l, off)
		}
		if binary.NativeEndian.Uint16(dg[off+4:]) == 4<<8 && l >= 20 {
			out = append(out, dg[off+20:off+l])
		}
		off += (l + 3) &^ 3
	}
	return out
}

// The kernel-order path takes real messages whole: the general walk is left
// nothing to do (it would still be right, only slower).
func TestKernelOrderTakesKernelMessages(t *testing.T) {
	// Messages of the inet families without bridge ports come in the order
	// the path follows; the others (bridge ports, VLAN, L2 header) are
	// finished by the general walk.
	whole := map[string]bool{"ipv4-input-seq.bin": true, "ipv6-output-mark.bin": true, "meta.bin": true, "snaplen-40.bin": true, "batch-5.bin": true, "arp.bin": true}
	files, _ := filepath.Glob("../testdata/nflog/*.bin")
	for _, f := range files {
		name := filepath.Base(f)
		for i, attrs := range attrsOf(t, readFixture(t, name)) {
			fast, walk, reasons, rest := nflog.ParseTwoWays(attrs)
			if !reflect.DeepEqual(fast, walk) || reasons[0] != reasons[1] {
				t.Errorf("%s message %d: the two parses differ:\n%+v %q\n%+v %q", name, i, fast, reasons[0], walk, reasons[1])
			}
			if whole[name] && rest != 0 {
				t.Errorf("%s message %d: %d bytes left to the general walk, want none", name, i, rest)
			}
		}
	}
	// The loopback flood's messages (what the benchmark harness sends)
	// need no general walk; compare on a built one with the same layout.
	ev := nflog.Event{Family: nflog.FamilyIPv4, HWProtocol: 0x0800, Hook: nflog.HookInput,
		Present: nflog.AttrPacketHdr | nflog.AttrPrefix | nflog.AttrInDev | nflog.AttrHWAddr | nflog.AttrHWType |
			nflog.AttrHWLen | nflog.AttrHWHeader | nflog.AttrTimestamp | nflog.AttrSeq | nflog.AttrPayload,
		Prefix: []byte("bench"), InDev: 1, HWAddr: make([]byte, 6), HWType: 772, HWLen: 14, HWHeader: make([]byte, 14),
		Time: time.Unix(1764787200, 5000), Seq: 7, Payload: make([]byte, 92)}
	msg := nflogtest.Packet(&ev)
	fast, _, reasons, rest := nflog.ParseTwoWays(msg[20:])
	if reasons[0] != "" || rest != 0 || fast.Present != ev.Present || fast.Seq != 7 || len(fast.Payload) != 92 || string(fast.Prefix) != "bench" ||
		!fast.Time.Equal(ev.Time) || fast.TimeSource != nflog.TimeKernel {
		t.Errorf("flood message: %+v %q", fast, reasons[0])
	}
}

// FuzzKernelOrder checks that the kernel-order path changes nothing: on any
// attribute bytes, parsing with it and with the general walk alone gives the
// same event and the same error.
func FuzzKernelOrder(f *testing.F) {
	files, _ := filepath.Glob("../testdata/nflog/*.bin")
	for _, file := range files {
		for _, attrs := range attrsOf(f, readFixture(f, filepath.Base(file))) {
			f.Add(attrs)
		}
	}
	full := fullEvent()
	f.Add(nflogtest.Packet(&full)[20:])
	short := fullEvent()
	short.HWAddr = make([]byte, 8) // the longest address the fast path takes
	short.Present &^= nflog.AttrPayload
	f.Add(nflogtest.Packet(&short)[20:])
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, walk, reasons, _ := nflog.ParseTwoWays(b)
		if reasons[0] != reasons[1] {
			t.Fatalf("errors differ: %q with the kernel-order path, %q without", reasons[0], reasons[1])
		}
		if reasons[0] == "" && !reflect.DeepEqual(fast, walk) {
			t.Fatalf("events differ:\n%+v\n%+v", fast, walk)
		}
	})
}
