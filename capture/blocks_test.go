package capture

import (
	"encoding/binary"
	"testing"
)

// blockLister walks a little-endian pcapng stream written on this host and
// collects what the tests check: interfaces, string options of IDBs, packet
// data and comments.
type blockLister struct {
	interfaces int
	strings    []string
	packets    [][]byte
	comments   [][]byte
}

func newBlockLister(t testing.TB, b []byte) *blockLister {
	t.Helper()
	l := &blockLister{}
	le := binary.NativeEndian
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("torn block at %d", off)
		}
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("bad block length %d at %d", n, off)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case 1: // IDB: linktype, reserved, snaplen, options
			l.interfaces++
			l.options(body[8:], func(code uint16, v []byte) {
				if code == 2 || code == 3 {
					l.strings = append(l.strings, string(v))
				}
			})
		case 6: // EPB: iface, ts hi, ts lo, caplen, origlen, data, options
			capLen := int(le.Uint32(body[12:]))
			l.packets = append(l.packets, body[20:20+capLen])
			var comment []byte
			l.options(body[20+(capLen+3)&^3:], func(code uint16, v []byte) {
				if code == 1 {
					comment = v
				}
			})
			l.comments = append(l.comments, comment)
		}
		off += n
	}
	return l
}

func (l *blockLister) options(b []byte, fn func(code uint16, v []byte)) {
	le := binary.NativeEndian
	for len(b) >= 4 {
		code, n := le.Uint16(b), int(le.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			return
		}
		fn(code, b[4:4+n])
		b = b[4+(n+3)&^3:]
	}
}
