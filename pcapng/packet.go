package pcapng

import (
	"encoding/binary"
	"fmt"
	"math"
)

// MaxCaptureLength is the most bytes of a packet (LinkHeader plus Data) that
// WritePacket stores; it truncates longer packets, as it does at the
// interface's SnapLen. Wireshark refuses longer packets for every link type
// of this package (WTAP_MAX_PACKET_SIZE_STANDARD).
const MaxCaptureLength = 262144

// Direction values for Packet.Flags: bits 0-1 of epb_flags.
const (
	FlagInbound  uint32 = 1
	FlagOutbound uint32 = 2
)

// Packet is one Enhanced Packet Block. Options whose field is zero (and
// whose Has flag is false) are omitted, so they cost no space.
type Packet struct {
	// Interface is the id returned by AddInterface.
	Interface int
	// Timestamp is the capture time in nanoseconds since the Unix epoch.
	// Negative values are rejected.
	Timestamp int64
	// LinkHeader is written before Data, e.g. a synthesized SLL2 header,
	// so that adding one costs no copy of the payload. It counts in the
	// captured and the original length.
	LinkHeader []byte
	// Data is the packet as captured (after LinkHeader).
	Data []byte
	// OriginalLength is the packet's length on the wire, LinkHeader
	// included. 0 means len(LinkHeader)+len(Data); smaller values are
	// raised to that, larger ones than 2^32-1 lowered to it.
	OriginalLength int
	// Flags is epb_flags; its bits 0-1 hold the direction (FlagInbound,
	// FlagOutbound). 0 omits the option.
	Flags uint32
	// DropCount is epb_dropcount: packets lost on this interface between
	// the previous packet and this one. It is written when it is not 0 or
	// when HasDropCount is set (to state that none were lost), and it is
	// added to the interface's drop count in its ISB either way.
	DropCount    uint64
	HasDropCount bool
	// PacketID is epb_packetid, written when HasPacketID is set (0 is a
	// valid id).
	PacketID    uint64
	HasPacketID bool
	// Comment is an opt_comment (UTF-8 expected, written as given, at most
	// 65535 bytes). nil or empty omits it.
	Comment []byte
}

// WritePacket adds an Enhanced Packet Block. It does not allocate, and it
// makes no Write call unless the block does not fit in the buffer.
//
// A packet longer than its interface's SnapLen (or MaxCaptureLength) is
// truncated to it; its original length still counts every byte. Errors
// wrapping ErrInvalid (nil packet, unknown interface, negative timestamp)
// or ErrTooLong (comment over 65535 bytes) reject the packet only.
func (w *Writer) WritePacket(p *Packet) error {
	if err := w.usable(); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("pcapng: nil *Packet: %w", ErrInvalid)
	}
	if p.Interface < 0 || p.Interface >= len(w.ifaces) {
		return fmt.Errorf("pcapng: packet on interface %d of %d: %w", p.Interface, len(w.ifaces), ErrInvalid)
	}
	st := &w.ifaces[p.Interface]
	if p.Timestamp < 0 {
		return fmt.Errorf("pcapng: negative timestamp %d: %w", p.Timestamp, ErrInvalid)
	}
	fullLen := len(p.LinkHeader) + len(p.Data)
	capLen := min(fullLen, MaxCaptureLength)
	if st.snapLen != 0 && uint64(capLen) > uint64(st.snapLen) {
		capLen = int(st.snapLen)
	}
	origLen := uint32(min(uint64(max(p.OriginalLength, fullLen)), math.MaxUint32))
	if len(p.Comment) > maxOptionLength {
		return fmt.Errorf("pcapng: %d-byte packet comment: %w", len(p.Comment), ErrTooLong)
	}

	writeDropCount := p.DropCount != 0 || p.HasDropCount
	opts := optionSize(len(p.Comment))
	if p.Flags != 0 {
		opts += 8
	}
	if writeDropCount {
		opts += 12
	}
	if p.HasPacketID {
		opts += 12
	}
	if opts > 0 {
		opts += 4 // opt_endofopt
	}
	size := epbFixed + pad4(capLen) + opts
	var b []byte
	if l := len(w.lent); len(w.buf) == 0 && size <= cap(w.lent)-l {
		// reserve's usual case, spared the call.
		b, w.inPlace = w.lent[l:l+size], true
	} else {
		var err error
		if b, err = w.reserve(size); err != nil {
			return err
		}
	}

	h := b[:28:28] // fixed fields; a constant length spares the bounds checks
	binary.NativeEndian.PutUint32(h[0:], blockEPB)
	binary.NativeEndian.PutUint32(h[4:], uint32(len(b)))
	binary.NativeEndian.PutUint32(h[8:], uint32(p.Interface))
	binary.NativeEndian.PutUint32(h[12:], uint32(uint64(p.Timestamp)>>32))
	binary.NativeEndian.PutUint32(h[16:], uint32(p.Timestamp))
	binary.NativeEndian.PutUint32(h[20:], uint32(capLen))
	binary.NativeEndian.PutUint32(h[24:], origLen)
	binary.NativeEndian.PutUint32(b[len(b)-4:], uint32(len(b)))
	end := 28 + pad4(capLen)
	if capLen > 0 {
		// The padding, zeroed before the data lands on the rest of its
		// word: one store instead of a call to clear 0-3 bytes.
		binary.NativeEndian.PutUint32(b[end-4:], 0)
	}
	data := b[28 : 28+capLen] // copy stops where truncation does
	n := 0
	if len(p.LinkHeader) > 0 {
		n = copy(data, p.LinkHeader)
	}
	copy(data[n:], p.Data)
	if opts > 0 {
		o := b[end : len(b)-4]
		n = putOption(o, optComment, p.Comment)
		if p.Flags != 0 {
			n += putUint32Option(o[n:], epbFlags, p.Flags)
		}
		if writeDropCount {
			n += putUint64Option(o[n:], epbDropCount, p.DropCount)
		}
		if p.HasPacketID {
			n += putUint64Option(o[n:], epbPacketID, p.PacketID)
		}
		putEndOfOptions(o[n:])
	}
	if w.inPlace && len(w.lent)+len(b) < lentWriteSize {
		// commit's usual case, spared the call.
		w.inPlace = false
		w.lent = w.lent[:len(w.lent)+len(b)]
	} else if err := w.commit(b); err != nil {
		return err
	}
	st.packets++
	if p.DropCount != 0 {
		st.drops = addSaturating(st.drops, p.DropCount)
	}
	return nil
}
