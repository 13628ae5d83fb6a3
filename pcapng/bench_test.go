package pcapng

import (
	"fmt"
	"io"
	"testing"
)

// steadyPacket is a packet with every option and a link header, the most
// work WritePacket does.
func steadyPacket(size int, comment bool) *Packet {
	p := &Packet{
		Timestamp:   goldenStart.UnixNano(),
		LinkHeader:  sll2Header(0x0800, 2, 0, []byte{2, 0, 0, 0, 0, 1}),
		Data:        make([]byte, size),
		Flags:       FlagInbound,
		DropCount:   1,
		PacketID:    7,
		HasPacketID: true,
	}
	if comment {
		p.Comment = []byte("nflog prefix: \"in-drop\" uid=1000")
	}
	return p
}

func TestWritePacketAllocatesNothing(t *testing.T) {
	w := NewWriter(io.Discard, &WriterOptions{BufferSize: 64 << 10})
	if _, err := w.AddInterface(&Interface{LinkType: LinkTypeLinuxSLL2}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Packet{steadyPacket(64, true), steadyPacket(1400, true), steadyPacket(9000, false)} {
		// Enough runs to go through several automatic flushes.
		allocs := testing.AllocsPerRun(1000, func() {
			if err := w.WritePacket(p); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("WritePacket of %d bytes: %v allocations per call, want 0", len(p.Data), allocs)
		}
	}
	if w.Written() == 0 {
		t.Error("no automatic flush happened during the test")
	}
}

func BenchmarkWritePacket(b *testing.B) {
	for _, size := range []int{64, 1400} {
		for _, comment := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/comment=%v", size, comment), func(b *testing.B) {
				w := NewWriter(io.Discard, nil)
				if _, err := w.AddInterface(&Interface{LinkType: LinkTypeLinuxSLL2}); err != nil {
					b.Fatal(err)
				}
				p := steadyPacket(size, comment)
				b.SetBytes(int64(len(p.LinkHeader) + len(p.Data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := w.WritePacket(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
