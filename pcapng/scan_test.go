package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// toByteOrder re-encodes a stream of SHB, IDB, EPB and ISB blocks in order,
// field by field: the writer only produces the host's order, and ValidPrefix
// and the test reader must handle both. LINKTYPE_NFLOG packets carry TLV
// headers in the capturing host's order, so those are converted too.
func toByteOrder(b []byte, order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}) ([]byte, error) {
	blocks, err := splitBlocks(b, nil)
	if err != nil {
		return nil, err
	}
	var out []byte
	var linkTypes []LinkType
	for _, blk := range blocks {
		from, body := blk.order, blk.body
		u16 := func(v []byte) { out = order.AppendUint16(out, from.Uint16(v)) }
		u32 := func(v []byte) { out = order.AppendUint32(out, from.Uint32(v)) }
		u64 := func(v []byte) { out = order.AppendUint64(out, from.Uint64(v)) }
		out = order.AppendUint32(out, blk.typ)
		out = order.AppendUint32(out, uint32(len(body)+12))
		var fixed int
		switch blk.typ {
		case blockSHB:
			linkTypes = nil
			u32(body)
			u16(body[4:])
			u16(body[6:])
			u64(body[8:])
			fixed = 16
		case blockIDB:
			linkTypes = append(linkTypes, LinkType(from.Uint16(body)))
			u16(body)
			u16(body[2:])
			u32(body[4:])
			fixed = 8
		case blockEPB:
			for i := 0; i < 20; i += 4 {
				u32(body[i:])
			}
			fixed = 20 + pad4(int(from.Uint32(body[12:])))
			data := bytes.Clone(body[20:fixed])
			if linkTypes[from.Uint32(body)] == LinkTypeNFLOG {
				for off := 4; off+4 <= len(data); {
					n := from.Uint16(data[off:])
					order.PutUint16(data[off:], n)
					order.PutUint16(data[off+2:], from.Uint16(data[off+2:]))
					if n < 4 {
						break
					}
					off += pad4(int(n))
				}
			}
			out = append(out, data...)
		case blockISB:
			for i := 0; i < 12; i += 4 {
				u32(body[i:])
			}
			fixed = 12
		default:
			return nil, fmt.Errorf("block type %#x", blk.typ)
		}
		opts, err := parseOptions(body[fixed:], from)
		if err != nil {
			return nil, err
		}
		for _, opt := range opts {
			out = order.AppendUint16(out, opt.code)
			out = order.AppendUint16(out, uint16(len(opt.value)))
			numeric := opt.code != optComment && (blk.typ == blockEPB || blk.typ == blockISB)
			switch {
			case numeric && blk.typ == blockISB && (opt.code == isbStartTime || opt.code == isbEndTime):
				u32(opt.value)
				u32(opt.value[4:])
			case numeric && len(opt.value) == 4:
				u32(opt.value)
			case numeric && len(opt.value) == 8:
				u64(opt.value)
			default:
				out = append(out, opt.value...)
			}
			out = append(out, make([]byte, pad4(len(opt.value))-len(opt.value))...)
		}
		if len(opts) > 0 {
			out = append(out, 0, 0, 0, 0)
		}
		out = order.AppendUint32(out, uint32(len(body)+12))
	}
	return out, nil
}

// otherOrder is the byte order this host does not write.
func otherOrder() interface {
	binary.ByteOrder
	binary.AppendByteOrder
} {
	if hostIsLittleEndian() {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// boundaries returns the offsets at which the blocks of b end.
func boundaries(t testing.TB, b []byte) []int64 {
	blocks, err := splitBlocks(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	ends := []int64{}
	var off int64
	for _, blk := range blocks {
		off += int64(len(blk.body) + 12)
		ends = append(ends, off)
	}
	return ends
}

func TestValidPrefixEveryCut(t *testing.T) {
	le, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	be, err := toByteOrder(le, otherOrder()) // le and be: this host's order and the other
	if err != nil {
		t.Fatal(err)
	}
	sle, err := parseStream(le)
	if err != nil {
		t.Fatal(err)
	}
	sbe, err := parseStream(be)
	if err != nil {
		t.Fatal(err)
	}
	// The re-encoding must be faithful for this test to mean anything (the
	// tshark test also reads the big-endian copy).
	back, err := toByteOrder(be, ne)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", sle.stats) != fmt.Sprintf("%+v", sbe.stats) ||
		fmt.Sprintf("%+v", sle.interfaces) != fmt.Sprintf("%+v", sbe.interfaces) ||
		bytes.Equal(le, be) || !bytes.Equal(back, le) {
		t.Fatal("big-endian copy does not parse to the same stream")
	}
	for name, b := range map[string][]byte{"host order": le, "other order": be} {
		ends := boundaries(t, b)
		for cut := 0; cut <= len(b); cut++ {
			want := int64(0)
			for _, e := range ends {
				if e <= int64(cut) {
					want = e
				}
			}
			got, err := ValidPrefix(bytes.NewReader(b[:cut]), int64(cut))
			if err != nil || got != want {
				t.Fatalf("%s cut at %d: ValidPrefix = %d, %v; want %d", name, cut, got, err, want)
			}
			// The same with a size beyond the data: io.EOF counts as torn.
			if got, err := ValidPrefix(bytes.NewReader(b[:cut]), int64(len(b))); err != nil || got != want {
				t.Fatalf("%s cut at %d, size %d: ValidPrefix = %d, %v; want %d", name, cut, len(b), got, err, want)
			}
		}
	}
}

func TestValidPrefixLongStream(t *testing.T) {
	// Blocks far beyond the scan window, and a cut in the middle of a large one.
	var buf bytesBuffer
	w := NewWriter(&buf, nil)
	if err := apply(w, variedOps(3000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.b
	if got, err := ValidPrefix(bytes.NewReader(b), int64(len(b))); err != nil || got != int64(len(b)) {
		t.Fatalf("ValidPrefix = %d, %v; want %d", got, err, len(b))
	}
	ends := boundaries(t, b)
	for _, i := range []int{100, 1000, len(ends) / 2, len(ends) - 2} {
		cut := ends[i] + (ends[i+1]-ends[i])/2
		if got, err := ValidPrefix(bytes.NewReader(b[:cut]), cut); err != nil || got != ends[i] {
			t.Errorf("cut at %d: ValidPrefix = %d, %v; want %d", cut, got, err, ends[i])
		}
	}
}

func TestValidPrefixDamage(t *testing.T) {
	good, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	ends := boundaries(t, good)
	shb, idb := ends[0], ends[1]
	pkt, pktEnd := ends[3], ends[4] // blocks 1-3 are IDBs, 4 is the first EPB
	damage := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want int64
	}{
		{"trailer disagrees", damage(func(b []byte) { b[pktEnd-4]++ }), pkt},
		{"length not a multiple of 4", damage(func(b []byte) { ne.PutUint32(b[pkt+4:], uint32(pktEnd-pkt+2)) }), pkt},
		{"length too small for an EPB", damage(func(b []byte) {
			ne.PutUint32(b[pkt+4:], 28)
			ne.PutUint32(b[pkt+24:], 28)
		}), pkt},
		{"length past the end", damage(func(b []byte) { ne.PutUint32(b[pkt+4:], 1<<31) }), pkt},
		{"packet on an undescribed interface", damage(func(b []byte) { ne.PutUint32(b[pkt+8:], 3) }), pkt},
		{"captured length past the block", damage(func(b []byte) { ne.PutUint32(b[pkt+20:], 1000) }), pkt},
		{"zeros after a crash", append(bytes.Clone(good[:idb]), make([]byte, 4096)...), idb},
		{"SHB of an unknown version", damage(func(b []byte) { ne.PutUint16(b[12:], 2) }), 0},
		{"second section with bad magic", func() []byte {
			b := append(bytes.Clone(good), good[:shb]...)
			b[len(good)+8] ^= 0xFF
			return b
		}(), int64(len(good))},
		{"unknown block type passes", ne.AppendUint32(ne.AppendUint32(ne.AppendUint32(bytes.Clone(good), 0xAD0B), 12), 12), int64(len(good)) + 12},
	} {
		got, err := ValidPrefix(bytes.NewReader(c.b), int64(len(c.b)))
		if err != nil || got != c.want {
			t.Errorf("%s: ValidPrefix = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	// A second section, in the other byte order, continues the prefix.
	be, err := toByteOrder(good, otherOrder())
	if err != nil {
		t.Fatal(err)
	}
	two := append(bytes.Clone(good), be...)
	if got, err := ValidPrefix(bytes.NewReader(two), int64(len(two))); err != nil || got != int64(len(two)) {
		t.Errorf("two sections: ValidPrefix = %d, %v; want %d", got, err, len(two))
	}
	// ...and its interface ids start again from 0.
	two = append(bytes.Clone(good), be[:boundaries(t, be)[0]]...)
	two = append(two, be[boundaries(t, be)[3]:boundaries(t, be)[4]]...) // an EPB for interface 0, no IDB
	if got, err := ValidPrefix(bytes.NewReader(two), int64(len(two))); err != nil || got != int64(len(good))+shb {
		t.Errorf("EPB before any IDB of its section: ValidPrefix = %d, %v; want %d", got, err, int64(len(good))+shb)
	}
}

func TestValidPrefixNotPcapng(t *testing.T) {
	for _, b := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n"),
		{0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0},  // classic pcap
		{0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4}, // SHB type, no magic
	} {
		if got, err := ValidPrefix(bytes.NewReader(b), int64(len(b))); got != 0 || !errors.Is(err, ErrNotPcapng) {
			t.Errorf("% x: ValidPrefix = %d, %v; want 0, ErrNotPcapng", b, got, err)
		}
	}
	// Too short to tell: an empty or torn header is a valid empty prefix.
	for _, b := range [][]byte{{}, {0x0A, 0x0D}, {0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D}} {
		if got, err := ValidPrefix(bytes.NewReader(b), int64(len(b))); got != 0 || err != nil {
			t.Errorf("% x: ValidPrefix = %d, %v; want 0, nil", b, got, err)
		}
	}
	if _, err := ValidPrefix(bytes.NewReader(nil), -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative size: %v, want ErrInvalid", err)
	}
}

// brokenReaderAt fails every read past an offset.
type brokenReaderAt struct {
	r     io.ReaderAt
	after int64
}

var errBadSector = errors.New("bad sector")

func (b brokenReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > b.after {
		return 0, errBadSector
	}
	return b.r.ReadAt(p, off)
}

func TestValidPrefixReadError(t *testing.T) {
	var buf bytesBuffer
	w := NewWriter(&buf, nil)
	if err := apply(w, variedOps(1000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := brokenReaderAt{r: bytes.NewReader(buf.b), after: 300 << 10}
	got, err := ValidPrefix(r, int64(len(buf.b)))
	if !errors.Is(err, errBadSector) || got <= 0 || got > 300<<10 {
		t.Errorf("ValidPrefix = %d, %v; want a prefix before the bad sector and the error", got, err)
	}
}
