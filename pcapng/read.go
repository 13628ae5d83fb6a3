package pcapng

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// PacketRecord is what ReadPackets reports of each Enhanced Packet Block.
type PacketRecord struct {
	Interface     int    // interface id within its section
	InterfaceName string // that interface's if_name, "" when it has none
	Timestamp     int64  // nanoseconds since the epoch, by the interface's if_tsresol
	CapturedLen   int
	PacketID      uint64 // epb_packetid
	HasPacketID   bool
	DropCount     uint64 // epb_dropcount, 0 when absent
}

// readInterface is what ReadPackets keeps of an Interface Description Block.
type readInterface struct {
	name string
	// ts converts a raw timestamp to nanoseconds.
	unitsPerSec uint64
}

// maxReadBlock bounds the blocks ReadPackets accepts; larger lengths are
// damage, not data (a packet is at most 64 KiB plus its options here).
const maxReadBlock = 16 << 20

// ReadPackets reads a pcapng stream block by block and calls fn for each
// Enhanced Packet Block, in order. It stops without error at a torn end (a
// block cut short, as a crash or a full disk leaves it), and with an error
// wrapping ErrNotPcapng when the stream does not start with a Section Header
// Block, or ErrInvalid when a complete block is malformed. An error from fn
// ends the walk and is returned. The record passed to fn is reused.
func ReadPackets(r io.Reader, fn func(*PacketRecord) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		order  binary.ByteOrder
		ifaces []readInterface
		rec    PacketRecord
		hdr    [12]byte
		body   []byte
		off    int64
	)
	for {
		if _, err := io.ReadFull(br, hdr[:8]); err != nil {
			return tornOrErr(err)
		}
		typ := binary.LittleEndian.Uint32(hdr[:4])
		if typ == blockSHB {
			if _, err := io.ReadFull(br, hdr[8:12]); err != nil {
				return tornOrErr(err)
			}
			switch {
			case binary.LittleEndian.Uint32(hdr[8:]) == byteOrderMagic:
				order = binary.LittleEndian
			case binary.BigEndian.Uint32(hdr[8:]) == byteOrderMagic:
				order = binary.BigEndian
			default:
				return fmt.Errorf("pcapng: section at offset %d has no byte-order magic: %w", off, ErrNotPcapng)
			}
			ifaces = ifaces[:0]
		} else if order == nil {
			return fmt.Errorf("pcapng: first block type %#x: %w", typ, ErrNotPcapng)
		} else {
			typ = order.Uint32(hdr[:4])
		}
		total := uint64(order.Uint32(hdr[4:8]))
		read := uint64(8)
		if typ == blockSHB {
			read = 12
		}
		if total%4 != 0 || total < read+4 || total > maxReadBlock {
			return fmt.Errorf("pcapng: block at offset %d has length %d: %w", off, total, ErrInvalid)
		}
		n := int(total - read)
		if cap(body) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(br, body); err != nil {
			return tornOrErr(err)
		}
		if order.Uint32(body[n-4:]) != uint32(total) {
			return fmt.Errorf("pcapng: block at offset %d: trailing length differs: %w", off, ErrInvalid)
		}
		fields := body[:n-4]
		switch typ {
		case blockIDB:
			ifc, err := readIDB(fields, order)
			if err != nil {
				return fmt.Errorf("pcapng: interface block at offset %d: %w", off, err)
			}
			ifaces = append(ifaces, ifc)
		case blockEPB:
			if err := readEPB(fields, order, ifaces, &rec); err != nil {
				return fmt.Errorf("pcapng: packet block at offset %d: %w", off, err)
			}
			if err := fn(&rec); err != nil {
				return err
			}
		}
		off += int64(total)
	}
}

// tornOrErr makes a stream that ends inside a block, or between blocks, a
// clean end.
func tornOrErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// readIDB reads link type, snaplen and the options ReadPackets needs.
func readIDB(b []byte, order binary.ByteOrder) (readInterface, error) {
	ifc := readInterface{unitsPerSec: 1e6} // if_tsresol absent: microseconds
	if len(b) < idbFixed-12 {
		return ifc, fmt.Errorf("too short: %w", ErrInvalid)
	}
	err := walkOptions(b[idbFixed-12:], order, func(code uint16, v []byte) error {
		switch code {
		case ifName:
			ifc.name = string(v)
		case ifTsresol:
			if len(v) != 1 {
				return fmt.Errorf("if_tsresol of %d bytes: %w", len(v), ErrInvalid)
			}
			ups, ok := tsresolUnits(v[0])
			if !ok {
				return fmt.Errorf("if_tsresol %#x: %w", v[0], ErrInvalid)
			}
			ifc.unitsPerSec = ups
		}
		return nil
	})
	return ifc, err
}

// tsresolUnits is the number of timestamp units per second for an
// if_tsresol value: 10^n, or 2^n with the high bit set.
func tsresolUnits(v byte) (uint64, bool) {
	if v&0x80 != 0 {
		if v&0x7f > 63 {
			return 0, false
		}
		return 1 << (v & 0x7f), true
	}
	if v > 19 {
		return 0, false
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, true
}

// readEPB fills rec from an EPB's fields (after type and length, before the
// trailing length).
func readEPB(b []byte, order binary.ByteOrder, ifaces []readInterface, rec *PacketRecord) error {
	const fixed = epbFixed - 12 // interface id, timestamp, captured and original length
	if len(b) < fixed {
		return fmt.Errorf("too short: %w", ErrInvalid)
	}
	id := order.Uint32(b)
	if uint64(id) >= uint64(len(ifaces)) {
		return fmt.Errorf("interface %d not described: %w", id, ErrInvalid)
	}
	ifc := &ifaces[id]
	raw := uint64(order.Uint32(b[4:]))<<32 | uint64(order.Uint32(b[8:]))
	capLen := uint64(order.Uint32(b[12:]))
	if capLen > uint64(len(b)-fixed) || pad4(int(capLen)) > len(b)-fixed {
		return fmt.Errorf("captured length %d past the block: %w", capLen, ErrInvalid)
	}
	*rec = PacketRecord{Interface: int(id), InterfaceName: ifc.name, Timestamp: toNanos(raw, ifc.unitsPerSec), CapturedLen: int(capLen)}
	return walkOptions(b[fixed+pad4(int(capLen)):], order, func(code uint16, v []byte) error {
		switch code {
		case epbPacketID:
			if len(v) == 8 {
				rec.PacketID, rec.HasPacketID = order.Uint64(v), true
			}
		case epbDropCount:
			if len(v) == 8 {
				rec.DropCount = order.Uint64(v)
			}
		}
		return nil
	})
}

// toNanos converts a timestamp of unitsPerSec units a second to
// nanoseconds, saturating instead of overflowing.
func toNanos(raw, unitsPerSec uint64) int64 {
	sec, frac := raw/unitsPerSec, raw%unitsPerSec
	if sec >= math.MaxInt64/1_000_000_000 {
		return math.MaxInt64
	}
	hi, lo := bits.Mul64(frac, 1e9) // hi < unitsPerSec: frac < unitsPerSec
	ns, _ := bits.Div64(hi, lo, unitsPerSec)
	return int64(sec*1e9 + ns)
}

// walkOptions calls fn for each option up to opt_endofopt or the end of b.
func walkOptions(b []byte, order binary.ByteOrder, fn func(code uint16, v []byte) error) error {
	for len(b) >= 4 {
		code, l := order.Uint16(b), int(order.Uint16(b[2:]))
		if code == optEndOfOpt {
			return nil
		}
		if 4+pad4(l) > len(b) {
			return fmt.Errorf("option %d of %d bytes past the block: %w", code, l, ErrInvalid)
		}
		if err := fn(code, b[4:4+l]); err != nil {
			return err
		}
		b = b[4+pad4(l):]
	}
	return nil
}
