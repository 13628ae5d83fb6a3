package nflog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// Netlink and nfnetlink framing.
const (
	nlmsgHeaderLen = 16
	nfgenHeaderLen = 4

	nlmsgNoop    = 1
	nlmsgError   = 2
	nlmsgDone    = 3
	nlmsgOverrun = 4

	subsysULOG    = 4
	msgTypePacket = subsysULOG<<8 | 0
	msgTypeConfig = subsysULOG<<8 | 1
)

// NFULA_* packet attribute types.
const (
	attrPacketHdr  = 1
	attrMark       = 2
	attrTimestamp  = 3
	attrInDev      = 4
	attrOutDev     = 5
	attrPhysInDev  = 6
	attrPhysOutDev = 7
	attrHWAddr     = 8
	attrPayload    = 9
	attrPrefix     = 10
	attrUID        = 11
	attrSeq        = 12
	attrSeqGlobal  = 13
	attrGID        = 14
	attrHWType     = 15
	attrHWHeader   = 16
	attrHWLen      = 17
	attrCT         = 18
	attrCTInfo     = 19
	attrVLAN       = 20
	attrL2Header   = 21

	attrVLANProto = 1
	attrVLANTCI   = 2
)

// ParseError reports a malformed message in a datagram.
type ParseError struct {
	Offset int    // byte offset of the message in the datagram
	Reason string // what is wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("nflog: malformed message at offset %d: %s", e.Offset, e.Reason)
}

// ack is a netlink acknowledgment or error found in a datagram.
type ack struct {
	seq   uint32
	errno int32 // 0 for success, else a positive errno
}

// datagram is the result of parsing one datagram, reused across reads.
type datagram struct {
	events    []Event
	acks      [4]ack // netlink sends each ack in its own datagram; 4 is room to spare
	nacks     int
	malformed int   // packet messages that failed to parse
	err       error // first malformation, for the caller who wants details

	// Set by parseCounting, for the listener's counters.
	bytes     uint64 // payload bytes
	lost      uint64 // packets the sequence gaps say the kernel dropped
	reordered uint64 // packets numbered below the one expected
	sawSeq    bool   // some packet carried a sequence number
}

// seqState follows a group's sequence numbers from datagram to datagram.
type seqState struct {
	next uint32 // the number expected next
	have bool   // next is known: a numbered packet has arrived
}

// ParseDatagram parses the packet messages in one datagram read from an NFLOG
// socket and appends them to dst. recvTime becomes the time of events that
// carry no kernel timestamp. Other message types (acknowledgments, NLMSG_DONE)
// are skipped. A malformed packet message is skipped and reported in the
// returned error (a *ParseError) while the rest of the datagram is still
// parsed, unless the framing itself is broken. The events point into b.
func ParseDatagram(b []byte, recvTime time.Time, dst []Event) ([]Event, error) {
	d := datagram{events: dst}
	d.parseAppend(b, recvTime, nil)
	return d.events, d.err
}

// parse fills d from b, reusing d's storage.
func (d *datagram) parse(b []byte, recvTime time.Time) { d.parseCounting(b, recvTime, nil) }

// parseCounting is parse that, when track is not nil, also sets each event's
// LostBefore from the sequence numbers, advances track and counts bytes, losses
// and reordering in d. It does so as each event is parsed, while the event is
// still in the CPU's cache, rather than in a second pass over the batch.
func (d *datagram) parseCounting(b []byte, recvTime time.Time, track *seqState) {
	d.events = d.events[:0]
	d.parseAppend(b, recvTime, track)
}

// parseAppend is parseCounting that appends to d.events.
func (d *datagram) parseAppend(b []byte, recvTime time.Time, track *seqState) {
	d.bytes, d.lost, d.reordered, d.sawSeq = 0, 0, 0, false
	d.nacks = 0
	d.malformed = 0
	d.err = nil
	off := 0
	for len(b)-off >= nlmsgHeaderLen {
		msg := b[off:]
		l := int(binary.NativeEndian.Uint32(msg))
		if l < nlmsgHeaderLen || l > len(msg) {
			d.fail(off, "netlink message length out of bounds")
			return
		}
		typ := binary.NativeEndian.Uint16(msg[4:])
		seq := binary.NativeEndian.Uint32(msg[8:])
		body := msg[nlmsgHeaderLen:l]
		switch typ {
		case msgTypePacket:
			d.events = append(d.events, Event{})
			ev := &d.events[len(d.events)-1]
			if reason := parsePacket(body, recvTime, ev); reason != "" {
				d.events = d.events[:len(d.events)-1]
				d.fail(off, reason)
			} else if track != nil {
				d.count(ev, track)
			}
		case nlmsgError:
			if len(body) < 4 {
				d.fail(off, "netlink error message truncated")
				break
			}
			if d.nacks < len(d.acks) {
				d.acks[d.nacks] = ack{seq: seq, errno: -int32(binary.NativeEndian.Uint32(body))}
				d.nacks++
			}
		}
		off += min(align4(l), len(msg))
	}
	if off != len(b) {
		d.fail(off, "trailing bytes after the last message")
	}
}

// count accounts one parsed event against the group's sequence numbers.
func (d *datagram) count(ev *Event, seq *seqState) {
	d.bytes += uint64(len(ev.Payload))
	if !ev.Has(AttrSeq) {
		return
	}
	d.sawSeq = true
	if !seq.have {
		// A binding of our own numbers its packets from 0.
		ev.LostBefore = uint64(ev.Seq)
	} else if gap := ev.Seq - seq.next; gap < 1<<31 {
		ev.LostBefore = uint64(gap)
	} else {
		d.reordered++
		return
	}
	d.lost += ev.LostBefore
	seq.next = ev.Seq + 1
	seq.have = true
}

func (d *datagram) fail(off int, reason string) {
	d.malformed++
	if d.err == nil {
		d.err = &ParseError{Offset: off, Reason: reason}
	}
}

// parsePacket fills ev from an NFULNL_MSG_PACKET body and returns "" or what
// is wrong with it.
func parsePacket(body []byte, recvTime time.Time, ev *Event) string {
	if len(body) < nfgenHeaderLen {
		return "packet message shorter than its nfgenmsg header"
	}
	ev.Family = Family(body[0])
	ev.Group = binary.BigEndian.Uint16(body[2:])
	ev.Raw = body
	ev.Time = recvTime
	ev.TimeSource = TimeReceived

	b := body[nfgenHeaderLen:]
	// The kernel writes the attributes in one order; most messages are
	// taken whole by parseKernelOrder, and the general walk takes whatever
	// is left from where it stopped (nothing, usually).
	off, present := parseKernelOrder(b, ev)
	if off < len(b) {
		var reason string
		if present, reason = parseAttrs(b, off, present, ev); reason != "" {
			return reason
		}
	}
	ev.Present = present
	if !ev.Has(AttrPacketHdr) {
		return "packet message without a packet header attribute"
	}
	return ""
}

// cutAtNUL returns the C string in b: the kernel sends the log prefix with
// its terminating NUL. Prefixes are short, and a byte loop costs less than
// the call to bytes.IndexByte there.
func cutAtNUL(b []byte) []byte {
	if len(b) > 32 {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return b[:i]
		}
		return b
	}
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// parseAttrs walks the attributes of a packet message from off on, in any
// order, filling ev, and returns the attribute bits found (added to present)
// or what is wrong.
//
// The walk is written out here, not through attrDecoder's methods: on the
// per-packet path the calls cost more than the parsing. Every slice is still
// bounds-checked against the message. The attribute bits are collected in a
// local and returned: an update of ev.Present per attribute would chain each
// one's store to the next one's load.
func parseAttrs(b []byte, off int, present Attr, ev *Event) (Attr, string) {
	for off < len(b) {
		if len(b)-off < nlaHeaderLen {
			return present, errAttrTruncated.Error()
		}
		hdr := b[off : off+nlaHeaderLen]
		l := int(binary.NativeEndian.Uint16(hdr))
		typ := binary.NativeEndian.Uint16(hdr[2:]) & nlaTypeMask
		if l < nlaHeaderLen || l > len(b)-off {
			return present, errAttrLength.Error()
		}
		data := b[off+nlaHeaderLen : off+l]
		off += align4(l) // past the end only when the last attribute has no padding
		ok := true
		switch typ {
		case attrPacketHdr:
			if len(data) != 4 {
				return present, "packet header attribute has the wrong size"
			}
			ev.HWProtocol = binary.BigEndian.Uint16(data)
			ev.Hook = data[2]
		case attrMark:
			ev.Mark, ok = be32(data)
		case attrTimestamp:
			if len(data) != 16 {
				return present, "timestamp attribute has the wrong size"
			}
			sec := binary.BigEndian.Uint64(data)
			usec := binary.BigEndian.Uint64(data[8:])
			if sec > 1<<62 || usec >= 1e6 {
				return present, "timestamp attribute out of range"
			}
			ev.Time = time.Unix(int64(sec), int64(usec)*1000)
			ev.TimeSource = TimeKernel
		case attrInDev:
			ev.InDev, ok = be32(data)
		case attrOutDev:
			ev.OutDev, ok = be32(data)
		case attrPhysInDev:
			ev.PhysInDev, ok = be32(data)
		case attrPhysOutDev:
			ev.PhysOutDev, ok = be32(data)
		case attrHWAddr:
			if len(data) < 4 {
				return present, "hardware address attribute truncated"
			}
			n := int(binary.BigEndian.Uint16(data))
			if n > len(data)-4 {
				return present, "hardware address longer than its attribute"
			}
			ev.HWAddr = data[4 : 4+n]
		case attrPayload:
			ev.Payload = data
		case attrPrefix:
			ev.Prefix = cutAtNUL(data)
		case attrUID:
			ev.UID, ok = be32(data)
		case attrSeq:
			ev.Seq, ok = be32(data)
		case attrSeqGlobal:
			ev.SeqGlobal, ok = be32(data)
		case attrGID:
			ev.GID, ok = be32(data)
		case attrHWType:
			ev.HWType, ok = be16(data)
		case attrHWHeader:
			ev.HWHeader = data
		case attrHWLen:
			ev.HWLen, ok = be16(data)
		case attrCT:
			ev.CT = data
		case attrCTInfo:
			ev.CTInfo, ok = be32(data)
		case attrVLAN:
			if reason := parseVLAN(data, ev); reason != "" {
				return present, reason
			}
		case attrL2Header:
			ev.L2Header = data
		default:
			continue // newer kernels may add attributes; skip them
		}
		if !ok {
			return present, fmt.Sprintf("attribute %d: %v", typ, errAttrSize)
		}
		present |= 1 << typ
	}
	return present, ""
}

// be16 and be32 read attribute integers, which the kernel sends in network
// order, checking the size.
func be16(b []byte) (uint16, bool) {
	if len(b) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b), true
}

func be32(b []byte) (uint32, bool) {
	if len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

func parseVLAN(b []byte, ev *Event) string {
	d := newAttrDecoder(b)
	for d.next() {
		switch d.typ {
		case attrVLANProto:
			ev.VLANProto = d.be16()
		case attrVLANTCI:
			ev.VLANTCI = d.be16()
		}
	}
	if d.err != nil {
		return "VLAN attribute: " + d.err.Error()
	}
	return ""
}
