package nflog

import "sync/atomic"

// Stats are a listener's counters. Stats may be called from any goroutine.
type Stats struct {
	Packets   uint64 // packet events delivered by Receive
	Bytes     uint64 // payload bytes delivered
	Datagrams uint64 // datagrams read
	Overruns  uint64 // ENOBUFS reports: times the kernel dropped messages
	// Lost counts packets the kernel logged but dropped, from gaps in the
	// group's sequence numbers (needs FlagSeq). Losses after the last
	// delivered packet are counted when the next packet arrives.
	Lost uint64
	// LossPending is true when an overrun happened after the last packet with
	// a sequence number: some losses are not counted in Lost yet (or, without
	// FlagSeq, cannot be counted at all).
	LossPending bool
	Reordered   uint64 // packets whose sequence number went backwards (never expected)
	Truncated   uint64 // datagrams larger than the read buffer (never expected)
	Malformed   uint64 // messages that failed to parse and were skipped
	// Discarded counts packets received but thrown away: by Rebind, or
	// beyond the setup backlog. With FlagSeq those beyond the setup backlog
	// are in Lost as well, as the gap they leave before the first delivered
	// packet; do not add the two.
	Discarded   uint64
	RcvBuf      int    // socket receive buffer now, in bytes (as requested; the kernel books twice this)
	RcvBufGrown uint64 // times the buffer was grown after an overrun
}

// counters hold Stats for concurrent readers. The read loop adds once per
// datagram, not per packet.
type counters struct {
	packets, bytes, datagrams, overruns, lost, reordered atomic.Uint64
	truncated, malformed, discarded, rcvBufGrown, rcvBuf atomic.Uint64
	lossPending                                          atomic.Bool
}

func (c *counters) snapshot() Stats {
	return Stats{
		Packets:     c.packets.Load(),
		Bytes:       c.bytes.Load(),
		Datagrams:   c.datagrams.Load(),
		Overruns:    c.overruns.Load(),
		Lost:        c.lost.Load(),
		LossPending: c.lossPending.Load(),
		Reordered:   c.reordered.Load(),
		Truncated:   c.truncated.Load(),
		Malformed:   c.malformed.Load(),
		Discarded:   c.discarded.Load(),
		RcvBuf:      int(c.rcvBuf.Load()),
		RcvBufGrown: c.rcvBufGrown.Load(),
	}
}
