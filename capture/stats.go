package capture

import (
	"fmt"
	"io"

	"github.com/nflogcap/nflogcap/internal/units"
	"github.com/nflogcap/nflogcap/nflog"
)

// Stats sums up a capture.
type Stats struct {
	Captured    uint64 // packets written to the outputs
	Lost        uint64 // packets the kernel logged but dropped (sequence gaps)
	LossPending bool   // an overrun after the last sequenced packet: more may be lost
	Overruns    uint64 // ENOBUFS reports
	RcvBuf      int    // receive buffer per group, in bytes (largest)
	Overflowed  uint64 // packets that went to a catch-all interface
	LiveDropped uint64 // packets the live view skipped while its reader was slow or absent
	// CutBytes and CutPackets: what a write error (disk full) cut off the
	// end of a file after it was written, so it is in no file although
	// Captured counts it; CutUnknown says not all of it could be counted.
	CutBytes   int64
	CutPackets uint64
	CutUnknown bool
	// Unwritten counts packets received after the write error that ended
	// the capture, in the same batch: not written anywhere.
	Unwritten uint64
	Groups    map[int]nflog.Stats
}

// WriteTo prints the statistics as tcpdump does, one fact a line.
func (s Stats) WriteTo(w io.Writer) (int64, error) {
	lost := fmt.Sprintf("%d packets lost", s.Lost)
	if s.LossPending {
		lost += " (and an unknown number after the last packet received: the kernel dropped packets after it)"
	}
	n, err := fmt.Fprintf(w, "%d packets captured\n%s\n%d ENOBUFS events\nreceive buffer %s\n",
		s.Captured, lost, s.Overruns, units.FormatSize(int64(s.RcvBuf)))
	total := int64(n)
	if err == nil && s.Overflowed > 0 {
		n, err = fmt.Fprintf(w, "%d packets written to the overflow interface (too many prefixes)\n", s.Overflowed)
		total += int64(n)
	}
	if err == nil && s.CutBytes > 0 {
		what := fmt.Sprintf("%d of them", s.CutPackets)
		if s.CutUnknown {
			what = fmt.Sprintf("at least %d of them", s.CutPackets)
		}
		n, err = fmt.Fprintf(w, "%s (%s) cut from the end of a file by a write error: in no file\n", what, units.FormatSize(s.CutBytes))
		total += int64(n)
	}
	if err == nil && s.Unwritten > 0 {
		n, err = fmt.Fprintf(w, "%d packets received but not written: the write error ended the capture\n", s.Unwritten)
		total += int64(n)
	}
	if err == nil && s.LiveDropped > 0 {
		n, err = fmt.Fprintf(w, "%d packets not sent to the live view (reader absent or too slow)\n", s.LiveDropped)
		total += int64(n)
	}
	return total, err
}
