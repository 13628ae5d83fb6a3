package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotPcapng is returned by ValidPrefix for a stream whose first bytes are
// present but are not a Section Header Block.
var ErrNotPcapng = errors.New("pcapng: not a pcapng stream")

// scanWindow is how much ValidPrefix reads at a time: one ReadAt covers the
// headers of many small blocks.
const scanWindow = 64 << 10

// errTorn marks a read that would go past the end of the stream.
var errTorn = errors.New("torn")

// ValidPrefix returns the length of the longest prefix of the stream (the
// first size bytes of r) that is a sequence of complete, well-formed pcapng
// blocks starting with a Section Header Block. A torn or damaged final block,
// and everything after it, is excluded; truncating the stream to the returned
// length leaves a capture that readers open without error.
//
// A block is well-formed when its total length is a multiple of 4, at least
// the minimum for its type and within the stream, and the length at its end
// agrees. An SHB must carry a byte-order magic (either order is accepted, and
// each section may have its own) and major version 1; Enhanced Packet and
// Interface Statistics Blocks must name an interface described earlier in
// their section, and a packet's data must fit in its block. Other block types
// are accepted as they are.
//
// If the stream's first bytes are present but are not an SHB, ValidPrefix
// returns 0 and ErrNotPcapng. A read error other than io.EOF is returned with
// the length validated so far; io.EOF before size bytes counts as a torn end.
func ValidPrefix(r io.ReaderAt, size int64) (int64, error) {
	if size < 0 {
		return 0, fmt.Errorf("pcapng: valid prefix of a stream of size %d: %w", size, ErrInvalid)
	}
	s := scanner{r: r, size: size, buf: make([]byte, min(scanWindow, size))}
	var (
		order  binary.ByteOrder
		ifaces uint64 // IDBs seen in the current section
		off    int64
	)
	for {
		n, ord, ifc, err := s.block(off, order, ifaces)
		if errors.Is(err, errTorn) {
			return off, nil
		}
		if err != nil {
			return off, err
		}
		if n == 0 {
			return off, nil
		}
		order, ifaces, off = ord, ifc, off+n
	}
}

// scanner reads a stream through a window, so that checking a block costs a
// ReadAt only when the block is not in the window already.
type scanner struct {
	r      io.ReaderAt
	size   int64
	buf    []byte
	winOff int64
	winLen int
}

// at returns the n bytes at off, or errTorn if the stream ends before them.
func (s *scanner) at(off int64, n int) ([]byte, error) {
	if off < 0 || int64(n) > s.size-off {
		return nil, errTorn
	}
	if off >= s.winOff && off+int64(n) <= s.winOff+int64(s.winLen) {
		i := int(off - s.winOff)
		return s.buf[i : i+n], nil
	}
	want := int(min(int64(len(s.buf)), s.size-off))
	m, err := s.r.ReadAt(s.buf[:want], off)
	s.winOff, s.winLen = off, max(0, min(m, want))
	if s.winLen < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, errTorn
		}
		return nil, fmt.Errorf("pcapng: read at offset %d: %w", off, err)
	}
	return s.buf[:n], nil
}

// block checks the block at off and returns its length (0 if it is not
// well-formed) together with the byte order and interface count that hold
// after it.
func (s *scanner) block(off int64, order binary.ByteOrder, ifaces uint64) (int64, binary.ByteOrder, uint64, error) {
	h, err := s.at(off, 8)
	if err != nil {
		return 0, nil, 0, err
	}
	if binary.LittleEndian.Uint32(h) == blockSHB { // the same in both orders
		m, err := s.at(off+8, 4)
		if err != nil {
			return 0, nil, 0, err
		}
		switch {
		case binary.LittleEndian.Uint32(m) == byteOrderMagic:
			order = binary.LittleEndian
		case binary.BigEndian.Uint32(m) == byteOrderMagic:
			order = binary.BigEndian
		case off == 0:
			return 0, nil, 0, fmt.Errorf("pcapng: byte-order magic % x: %w", m, ErrNotPcapng)
		default:
			return 0, nil, 0, nil
		}
		ifaces = 0
	} else if order == nil {
		return 0, nil, 0, fmt.Errorf("pcapng: first block type % x: %w", h[:4], ErrNotPcapng)
	}
	// at returns a slice of the window that the next call may overwrite:
	// read what is needed from each slice before the next call.
	typ, length := order.Uint32(h), int64(order.Uint32(h[4:]))
	fixed := int64(12)
	switch typ {
	case blockSHB:
		fixed = shbFixed
	case blockIDB:
		fixed = idbFixed
	case blockEPB:
		fixed = epbFixed
	case blockISB:
		fixed = isbFixed
	}
	if length < fixed || length%4 != 0 || length > s.size-off {
		return 0, nil, 0, nil
	}
	t, err := s.at(off+length-4, 4)
	if err != nil {
		return 0, nil, 0, err
	}
	if int64(order.Uint32(t)) != length {
		return 0, nil, 0, nil
	}
	b, err := s.at(off, int(fixed-4))
	if err != nil {
		return 0, nil, 0, err
	}
	switch typ {
	case blockSHB:
		if order.Uint16(b[12:]) != 1 {
			return 0, nil, 0, nil
		}
	case blockIDB:
		ifaces++
	case blockEPB:
		capLen := int64(order.Uint32(b[20:]))
		if uint64(order.Uint32(b[8:])) >= ifaces || epbFixed+((capLen+3)&^3) > length {
			return 0, nil, 0, nil
		}
	case blockISB:
		if uint64(order.Uint32(b[8:])) >= ifaces {
			return 0, nil, 0, nil
		}
	}
	return length, order, ifaces, nil
}
