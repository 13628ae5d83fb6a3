package capture

import (
	"testing"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// BenchmarkEncoder measures mapping recorded kernel events to pcapng blocks
// (interface lookup, link header, options, comment) per packet, with and
// without the metadata comment.
func BenchmarkEncoder(b *testing.B) {
	evs := fixtureEvents(b)
	for _, bc := range []struct {
		name     string
		comments bool
	}{{"comments", true}, {"no-comments", false}} {
		b.Run(bc.name, func(b *testing.B) {
			w := pcapng.NewWriter(discard{}, nil)
			e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: bc.comments, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: testNames}, w)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := e.write(&evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
				if i%64 == 63 {
					w.Flush()
				}
			}
		})
	}
}

// BenchmarkEncoderFlood is one flow's packets back to back, as in a flood
// (and the performance harness): the same interface and comment head every
// time, only the sequence number changing.
func BenchmarkEncoderFlood(b *testing.B) {
	ev := fixtureEvents(b)[0] // ipv4-input-seq: input hook, in=lo, seq
	for _, bc := range []struct {
		name     string
		comments bool
	}{{"comments", true}, {"no-comments", false}} {
		b.Run(bc.name, func(b *testing.B) {
			w := pcapng.NewWriter(discard{}, nil)
			e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: bc.comments, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: testNames}, w)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ev.Seq = uint32(i)
				if err := e.write(&ev); err != nil {
					b.Fatal(err)
				}
				if i%512 == 511 {
					w.Flush()
				}
			}
		})
	}
}
