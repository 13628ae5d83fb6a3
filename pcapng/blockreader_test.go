package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file is a strict, test-only pcapng reader, independent of the writer's
// encoding code: it checks every length, padding byte and option it meets, and
// returns everything the writer can write, including the packet options and
// ISBs that gopacket's NgReader does not expose.

type option struct {
	code  uint16
	value []byte
}

type rawBlock struct {
	typ   uint32
	order binary.ByteOrder
	body  []byte // between the total length fields
}

type sectionInfo struct {
	order                              binary.ByteOrder
	major, minor                       uint16
	sectionLength                      uint64
	comment, hardware, os, application string
	optionCodes                        []uint16
}

type ifaceInfo struct {
	linkType                                         LinkType
	snapLen                                          uint32
	name, description, os, filter, hardware, comment string
	filterType                                       byte
	tsresol                                          []byte
	optionCodes                                      []uint16
}

type packetInfo struct {
	iface           uint32
	timestamp       uint64
	capLen, origLen uint32
	data            []byte
	flags           uint32
	hasFlags        bool
	dropCount       uint64
	hasDropCount    bool
	packetID        uint64
	hasPacketID     bool
	comment         []byte
	optionCodes     []uint16
}

type statsInfo struct {
	iface                    uint32
	timestamp                uint64
	startTime, endTime       uint64
	ifRecv, ifDrop, usrDeliv uint64
	optionCodes              []uint16
}

// parsedStream is a whole stream: one section, and its blocks in order
// ('S', 'I', 'P', 'T' for SHB, IDB, EPB, ISB).
type parsedStream struct {
	section    sectionInfo
	interfaces []ifaceInfo
	packets    []packetInfo
	stats      []statsInfo
	order      []byte
}

// splitBlocks cuts b into blocks, checking the framing. order is the byte
// order to use until an SHB says otherwise; nil means b must start with an
// SHB.
func splitBlocks(b []byte, order binary.ByteOrder) ([]rawBlock, error) {
	var blocks []rawBlock
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 12 {
			return nil, fmt.Errorf("offset %d: %d bytes left, less than a block", off, len(rest))
		}
		if binary.LittleEndian.Uint32(rest) == blockSHB {
			switch {
			case binary.LittleEndian.Uint32(rest[8:]) == byteOrderMagic:
				order = binary.LittleEndian
			case binary.BigEndian.Uint32(rest[8:]) == byteOrderMagic:
				order = binary.BigEndian
			default:
				return nil, fmt.Errorf("offset %d: SHB with bad byte-order magic % x", off, rest[8:12])
			}
		}
		if order == nil {
			return nil, fmt.Errorf("offset %d: stream does not start with an SHB", off)
		}
		typ, length := order.Uint32(rest), order.Uint32(rest[4:])
		if length < 12 || length%4 != 0 || uint64(length) > uint64(len(rest)) {
			return nil, fmt.Errorf("offset %d: block type %#x length %d with %d bytes left", off, typ, length, len(rest))
		}
		if trailer := order.Uint32(rest[length-4:]); trailer != length {
			return nil, fmt.Errorf("offset %d: block length %d, trailing length %d", off, length, trailer)
		}
		blocks = append(blocks, rawBlock{typ: typ, order: order, body: rest[8 : length-4]})
		off += int(length)
	}
	return blocks, nil
}

// parseOptions reads an options area that must be either empty or a list of
// options ended by opt_endofopt, with zero padding and nothing after the end.
func parseOptions(b []byte, order binary.ByteOrder) ([]option, error) {
	var opts []option
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("%d stray bytes after the options", len(b))
		}
		code, n := order.Uint16(b), int(order.Uint16(b[2:]))
		if code == optEndOfOpt {
			if n != 0 || len(b) != 4 {
				return nil, fmt.Errorf("opt_endofopt with length %d and %d bytes after it", n, len(b)-4)
			}
			if len(opts) == 0 {
				return nil, errors.New("opt_endofopt without options")
			}
			return opts, nil
		}
		if n == 0 {
			return nil, fmt.Errorf("option %d is empty", code)
		}
		if 4+pad4(n) > len(b) {
			return nil, fmt.Errorf("option %d of length %d overruns the block", code, n)
		}
		if pad := b[4+n : 4+pad4(n)]; !allZero(pad) {
			return nil, fmt.Errorf("option %d padding % x is not zero", code, pad)
		}
		opts = append(opts, option{code: code, value: b[4 : 4+n]})
		b = b[4+pad4(n):]
	}
	if len(opts) > 0 {
		return nil, errors.New("options without opt_endofopt")
	}
	return nil, nil
}

func allZero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

// parseStream parses a complete stream written by Writer (or anything in its
// subset of pcapng: one section, IDB, EPB and ISB) strictly.
func parseStream(b []byte) (*parsedStream, error) {
	blocks, err := splitBlocks(b, nil)
	if err != nil {
		return nil, err
	}
	s := &parsedStream{}
	for i, blk := range blocks {
		if err := s.add(blk); err != nil {
			return nil, fmt.Errorf("block %d (type %#x): %w", i, blk.typ, err)
		}
	}
	return s, nil
}

func (s *parsedStream) add(blk rawBlock) error {
	o, b := blk.order, blk.body
	if (blk.typ == blockSHB) != (len(s.order) == 0) {
		return errors.New("want exactly one SHB, first")
	}
	seen := map[uint16]bool{}
	var codes []uint16
	options := func(area []byte) ([]option, error) {
		opts, err := parseOptions(area, o)
		for _, opt := range opts {
			if seen[opt.code] {
				return nil, fmt.Errorf("option %d repeated", opt.code)
			}
			seen[opt.code] = true
			codes = append(codes, opt.code)
		}
		return opts, err
	}
	u64 := func(opt option) (uint64, error) {
		if len(opt.value) != 8 {
			return 0, fmt.Errorf("option %d has length %d, want 8", opt.code, len(opt.value))
		}
		return o.Uint64(opt.value), nil
	}
	ts := func(opt option) (uint64, error) {
		if len(opt.value) != 8 {
			return 0, fmt.Errorf("option %d has length %d, want 8", opt.code, len(opt.value))
		}
		return uint64(o.Uint32(opt.value))<<32 | uint64(o.Uint32(opt.value[4:])), nil
	}
	switch blk.typ {
	case blockSHB:
		if len(b) < 16 {
			return fmt.Errorf("SHB body of %d bytes", len(b))
		}
		sec := sectionInfo{order: o, major: o.Uint16(b[4:]), minor: o.Uint16(b[6:]), sectionLength: o.Uint64(b[8:])}
		opts, err := options(b[16:])
		if err != nil {
			return err
		}
		for _, opt := range opts {
			switch opt.code {
			case optComment:
				sec.comment = string(opt.value)
			case shbHardware:
				sec.hardware = string(opt.value)
			case shbOS:
				sec.os = string(opt.value)
			case shbUserAppl:
				sec.application = string(opt.value)
			default:
				return fmt.Errorf("unexpected SHB option %d", opt.code)
			}
		}
		sec.optionCodes = codes
		s.section = sec
	case blockIDB:
		if len(b) < 8 {
			return fmt.Errorf("IDB body of %d bytes", len(b))
		}
		if r := o.Uint16(b[2:]); r != 0 {
			return fmt.Errorf("IDB reserved field %d", r)
		}
		ifc := ifaceInfo{linkType: LinkType(o.Uint16(b)), snapLen: o.Uint32(b[4:])}
		opts, err := options(b[8:])
		if err != nil {
			return err
		}
		for _, opt := range opts {
			switch opt.code {
			case optComment:
				ifc.comment = string(opt.value)
			case ifName:
				ifc.name = string(opt.value)
			case ifDescription:
				ifc.description = string(opt.value)
			case ifTsresol:
				ifc.tsresol = opt.value
			case ifFilter:
				ifc.filterType, ifc.filter = opt.value[0], string(opt.value[1:])
			case ifOS:
				ifc.os = string(opt.value)
			case ifHardware:
				ifc.hardware = string(opt.value)
			default:
				return fmt.Errorf("unexpected IDB option %d", opt.code)
			}
		}
		ifc.optionCodes = codes
		s.interfaces = append(s.interfaces, ifc)
	case blockEPB:
		if len(b) < 20 {
			return fmt.Errorf("EPB body of %d bytes", len(b))
		}
		p := packetInfo{
			iface:     o.Uint32(b),
			timestamp: uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:])),
			capLen:    o.Uint32(b[12:]),
			origLen:   o.Uint32(b[16:]),
		}
		if p.iface >= uint32(len(s.interfaces)) {
			return fmt.Errorf("packet on interface %d before its IDB", p.iface)
		}
		if p.origLen < p.capLen {
			return fmt.Errorf("original length %d < captured length %d", p.origLen, p.capLen)
		}
		if uint64(20)+uint64(pad4(int(p.capLen))) > uint64(len(b)) {
			return fmt.Errorf("captured length %d overruns the block", p.capLen)
		}
		p.data = b[20 : 20+p.capLen]
		if pad := b[20+p.capLen : 20+pad4(int(p.capLen))]; !allZero(pad) {
			return fmt.Errorf("packet data padding % x is not zero", pad)
		}
		opts, err := options(b[20+pad4(int(p.capLen)):])
		if err != nil {
			return err
		}
		for _, opt := range opts {
			switch opt.code {
			case optComment:
				p.comment = opt.value
			case epbFlags:
				if len(opt.value) != 4 {
					return fmt.Errorf("epb_flags of length %d", len(opt.value))
				}
				p.flags, p.hasFlags = o.Uint32(opt.value), true
			case epbDropCount:
				p.hasDropCount = true
				if p.dropCount, err = u64(opt); err != nil {
					return err
				}
			case epbPacketID:
				p.hasPacketID = true
				if p.packetID, err = u64(opt); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unexpected EPB option %d", opt.code)
			}
		}
		p.optionCodes = codes
		s.packets = append(s.packets, p)
	case blockISB:
		if len(b) < 12 {
			return fmt.Errorf("ISB body of %d bytes", len(b))
		}
		st := statsInfo{iface: o.Uint32(b), timestamp: uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:]))}
		if st.iface >= uint32(len(s.interfaces)) {
			return fmt.Errorf("statistics for interface %d before its IDB", st.iface)
		}
		opts, err := options(b[12:])
		if err != nil {
			return err
		}
		for _, opt := range opts {
			var v uint64
			if opt.code == isbStartTime || opt.code == isbEndTime {
				v, err = ts(opt)
			} else {
				v, err = u64(opt)
			}
			if err != nil {
				return err
			}
			switch opt.code {
			case isbStartTime:
				st.startTime = v
			case isbEndTime:
				st.endTime = v
			case isbIfRecv:
				st.ifRecv = v
			case isbIfDrop:
				st.ifDrop = v
			case isbUsrDeliv:
				st.usrDeliv = v
			default:
				return fmt.Errorf("unexpected ISB option %d", opt.code)
			}
		}
		st.optionCodes = codes
		s.stats = append(s.stats, st)
	default:
		return errors.New("unexpected block type")
	}
	s.order = append(s.order, map[uint32]byte{blockSHB: 'S', blockIDB: 'I', blockEPB: 'P', blockISB: 'T'}[blk.typ])
	return nil
}
