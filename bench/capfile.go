//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// packetFunc receives each packet's captured bytes and link type. data is only
// valid during the call.
type packetFunc func(linkType uint16, data []byte)

// readCapture calls fn for every packet in a pcap or pcapng file and returns
// how many there were. It is a minimal reader, just enough to count and check
// what the capture tools write; it is faster than capinfos or gopacket on
// gigabyte files because it reuses one buffer and decodes nothing else.
func readCapture(path string, fn packetFunc) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 4<<20)
	magic, err := r.Peek(4)
	if err != nil {
		return 0, fmt.Errorf("%s: read magic: %w", path, err)
	}
	var n int64
	if binary.LittleEndian.Uint32(magic) == blockSHB {
		n, err = readPcapng(r, fn)
	} else {
		n, err = readPcap(r, fn)
	}
	if err != nil {
		return n, fmt.Errorf("%s: after %d packets: %w", path, n, err)
	}
	return n, nil
}

const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 1
	blockPB  = 2 // obsolete Packet Block
	blockSPB = 3
	blockEPB = 6
	bomMagic = 0x1A2B3C4D
)

// errTruncated marks a file that ends inside a record: a tool killed mid-write.
var errTruncated = errors.New("file ends inside a record")

// maxBlock bounds a block length read from the file, so a corrupt length
// cannot make the reader allocate gigabytes.
const maxBlock = 16 << 20

func readPcapng(r *bufio.Reader, fn packetFunc) (int64, error) {
	var (
		order     binary.ByteOrder = binary.LittleEndian
		linkTypes []uint16
		n         int64
		hdr       [12]byte
		body      []byte
	)
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, errTruncated
		}
		typ := binary.LittleEndian.Uint32(hdr[:4])
		if typ == blockSHB {
			// The section's byte order is known only after its byte-order magic.
			if _, err := io.ReadFull(r, hdr[8:12]); err != nil {
				return n, errTruncated
			}
			switch binary.LittleEndian.Uint32(hdr[8:12]) {
			case bomMagic:
				order = binary.LittleEndian
			case 0x4D3C2B1A:
				order = binary.BigEndian
			default:
				return n, fmt.Errorf("bad pcapng byte-order magic %x", hdr[8:12])
			}
			linkTypes = linkTypes[:0]
			total := order.Uint32(hdr[4:8])
			if total < 28 || total > maxBlock || total%4 != 0 {
				return n, fmt.Errorf("bad section header length %d", total)
			}
			if _, err := r.Discard(int(total) - 12); err != nil {
				return n, errTruncated
			}
			continue
		}
		typ = order.Uint32(hdr[:4])
		total := order.Uint32(hdr[4:8])
		if total < 12 || total > maxBlock || total%4 != 0 {
			return n, fmt.Errorf("bad block length %d (type %d)", total, typ)
		}
		if cap(body) < int(total-8) {
			body = make([]byte, total-8)
		}
		b := body[:total-8]
		if _, err := io.ReadFull(r, b); err != nil {
			return n, errTruncated
		}
		b = b[:len(b)-4] // trailing block length
		switch typ {
		case blockIDB:
			if len(b) < 8 {
				return n, fmt.Errorf("short interface description block")
			}
			linkTypes = append(linkTypes, order.Uint16(b[0:2]))
		case blockEPB, blockPB:
			if len(b) < 20 {
				return n, fmt.Errorf("short packet block")
			}
			var ifc uint32
			if typ == blockEPB {
				ifc = order.Uint32(b[0:4])
			} else {
				ifc = uint32(order.Uint16(b[0:2]))
			}
			caplen := order.Uint32(b[12:16])
			if int(ifc) >= len(linkTypes) || uint64(caplen) > uint64(len(b)-20) {
				return n, fmt.Errorf("packet block: interface %d of %d, caplen %d in %d bytes", ifc, len(linkTypes), caplen, len(b))
			}
			n++
			fn(linkTypes[ifc], b[20:20+caplen])
		case blockSPB:
			if len(b) < 4 || len(linkTypes) == 0 {
				return n, fmt.Errorf("simple packet block without interface")
			}
			caplen := min(int(order.Uint32(b[0:4])), len(b)-4)
			n++
			fn(linkTypes[0], b[4:4+caplen])
		}
	}
}

func readPcap(r *bufio.Reader, fn packetFunc) (int64, error) {
	var fh [24]byte
	if _, err := io.ReadFull(r, fh[:]); err != nil {
		return 0, errTruncated
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(fh[:4]) {
	case 0xA1B2C3D4, 0xA1B23C4D: // microsecond, nanosecond
		order = binary.LittleEndian
	case 0xD4C3B2A1, 0x4D3CB2A1:
		order = binary.BigEndian
	default:
		return 0, fmt.Errorf("not a pcap or pcapng file (magic %x)", fh[:4])
	}
	// The upper bits of the link-type field carry FCS information.
	linkType := uint16(order.Uint32(fh[20:24]))
	var (
		n    int64
		rh   [16]byte
		body []byte
	)
	for {
		if _, err := io.ReadFull(r, rh[:]); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, errTruncated
		}
		caplen := order.Uint32(rh[8:12])
		if caplen > maxBlock {
			return n, fmt.Errorf("bad record length %d", caplen)
		}
		if cap(body) < int(caplen) {
			body = make([]byte, caplen)
		}
		b := body[:caplen]
		if _, err := io.ReadFull(r, b); err != nil {
			return n, errTruncated
		}
		n++
		fn(linkType, b)
	}
}
