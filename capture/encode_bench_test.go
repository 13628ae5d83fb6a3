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
	benchEncode(b, 64, func(i int) *nflog.Event { return &evs[i%len(evs)] })
}

// BenchmarkEncoderFlood is one flow's packets back to back, as in a flood
// (and the performance harness): the same interface and comment head every
// time, only the sequence number changing.
func BenchmarkEncoderFlood(b *testing.B) {
	ev := fixtureEvents(b)[0] // ipv4-input-seq: input hook, in=lo, seq
	benchEncode(b, 512, func(i int) *nflog.Event { ev.Seq = uint32(i); return &ev })
}

// benchEncode encodes event(0), event(1), ... with and without comments,
// flushing every batch events as the capture does after each datagram.
func benchEncode(b *testing.B, batch int, event func(i int) *nflog.Event) {
	for _, bc := range []struct {
		name     string
		comments bool
	}{{"comments", true}, {"no-comments", false}} {
		b.Run(bc.name, func(b *testing.B) {
			w := pcapng.NewWriter(discard{}, nil)
			e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: bc.comments, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: testNames}, w)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := e.write(event(i)); err != nil {
					b.Fatal(err)
				}
				if i%batch == batch-1 {
					w.Flush()
				}
			}
		})
	}
}
