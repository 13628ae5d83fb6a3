package capture

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nflogcap/nflogcap/pcapng"
	"github.com/nflogcap/nflogcap/rotate"
)

// fileOutput reads its own files back for the Rotator.
var _ rotate.Scanner = (*fileOutput)(nil)

// Scan reads back a file of ours and sums it up as Close does: rotate calls
// it for a file that a write error cut short, to count the packets that
// stayed, and for a finished file a crash kept out of the manifest. It
// shares no state with the writing side.
func (f *fileOutput) Scan(r io.Reader) (rotate.Summary, error) {
	var (
		s          rotate.Summary
		group      = -2 // group of the first packet; -1 for the overflow interface
		multiGroup bool
		lastName   string
		lastGroup  int
	)
	err := pcapng.ReadPackets(r, func(p *pcapng.PacketRecord) error {
		if p.InterfaceName != lastName || s.Packets == 0 {
			lastName, lastGroup = p.InterfaceName, interfaceGroup(p.InterfaceName)
		}
		ts := time.Unix(0, p.Timestamp)
		if s.Packets == 0 {
			s.First, s.Last, group = ts, ts, lastGroup
		} else if lastGroup != group {
			multiGroup = true
		}
		if ts.After(s.Last) {
			s.Last = ts
		}
		s.Packets++
		s.Lost += p.DropCount
		if p.HasPacketID && lastGroup == group {
			if !s.HasSeq {
				s.SeqFirst, s.HasSeq = p.PacketID, true
			}
			s.SeqLast = p.PacketID
		}
		return nil
	})
	if multiGroup || group < 0 {
		s.SeqFirst, s.SeqLast, s.HasSeq = 0, 0, false
	}
	return s, err
}

// interfaceGroup reads the group from an interface name of ours
// ("nflog:5000", "nflog:5000:prefix", "nflog:5000:prefix/sll2"); -1 for the
// overflow interface and names that are not ours.
func interfaceGroup(name string) int {
	rest, ok := strings.CutPrefix(name, "nflog:")
	if !ok {
		return -1
	}
	if i := strings.IndexAny(rest, ":/"); i >= 0 {
		rest = rest[:i]
	}
	g, err := strconv.Atoi(rest)
	if err != nil || g < 1 || g > 65535 {
		return -1
	}
	return g
}
