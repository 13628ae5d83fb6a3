package capture

import (
	"encoding/binary"
	"testing"
)

// blockLister walks a pcapng stream written on this host (so in its byte
// order) and collects what the tests check: interfaces, string options of
// IDBs, packet data, the EPB fields and options, and the ISBs. It is written
// from the pcapng specification, apart from the package's encoding code, and
// fails the test on any length or option that does not add up.
type blockLister struct {
	interfaces int
	strings    []string // if_name and if_description of every IDB
	packets    [][]byte
	comments   [][]byte // nil for a packet without opt_comment

	ifaces []listedIface
	epbs   []listedPacket
	isbs   []listedStats
}

type listedIface struct {
	linkType          uint16
	snapLen           uint32
	name, description string
}

type listedPacket struct {
	iface           int
	capLen, origLen int
	data            []byte
	flags           uint32
	hasFlags        bool
	dropCount       uint64
	hasDropCount    bool
	packetID        uint64
	hasPacketID     bool
	comment         []byte
	comments        int // opt_comment options seen
}

type listedStats struct {
	iface                    int
	ifRecv, ifDrop, usrDeliv uint64
	hasRecv, hasDrop         bool
}

// ifaceName is the if_name of the packet's interface.
func (l *blockLister) ifaceName(p *listedPacket) string { return l.ifaces[p.iface].name }

func newBlockLister(t testing.TB, b []byte) *blockLister {
	t.Helper()
	l := &blockLister{}
	le := binary.NativeEndian
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("torn block at %d", off)
		}
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 || off+n > len(b) || int(le.Uint32(b[off+n-4:])) != n {
			t.Fatalf("bad block length %d at %d", n, off)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case 1: // IDB: linktype, reserved, snaplen, options
			if len(body) < 8 {
				t.Fatalf("IDB of %d bytes", len(body))
			}
			l.interfaces++
			ifc := listedIface{linkType: le.Uint16(body), snapLen: le.Uint32(body[4:])}
			l.options(t, body[8:], func(code uint16, v []byte) {
				switch code {
				case 2:
					ifc.name = string(v)
				case 3:
					ifc.description = string(v)
				}
				if code == 2 || code == 3 {
					l.strings = append(l.strings, string(v))
				}
			})
			l.ifaces = append(l.ifaces, ifc)
		case 6: // EPB: iface, ts hi, ts lo, caplen, origlen, data, options
			if len(body) < 20 {
				t.Fatalf("EPB of %d bytes", len(body))
			}
			p := listedPacket{iface: int(le.Uint32(body)), capLen: int(le.Uint32(body[12:])), origLen: int(le.Uint32(body[16:]))}
			if p.iface >= len(l.ifaces) {
				t.Fatalf("packet on interface %d of %d", p.iface, len(l.ifaces))
			}
			if 20+(p.capLen+3)&^3 > len(body) || p.origLen < p.capLen {
				t.Fatalf("EPB captured length %d, original %d, body %d bytes", p.capLen, p.origLen, len(body))
			}
			p.data = body[20 : 20+p.capLen]
			l.options(t, body[20+(p.capLen+3)&^3:], func(code uint16, v []byte) {
				switch code {
				case 1:
					p.comment = v
					p.comments++
				case 2:
					if len(v) != 4 {
						t.Fatalf("epb_flags of %d bytes", len(v))
					}
					p.flags, p.hasFlags = le.Uint32(v), true
				case 4:
					if len(v) != 8 {
						t.Fatalf("epb_dropcount of %d bytes", len(v))
					}
					p.dropCount, p.hasDropCount = le.Uint64(v), true
				case 5:
					if len(v) != 8 {
						t.Fatalf("epb_packetid of %d bytes", len(v))
					}
					p.packetID, p.hasPacketID = le.Uint64(v), true
				}
			})
			l.packets = append(l.packets, p.data)
			l.comments = append(l.comments, p.comment)
			l.epbs = append(l.epbs, p)
		case 5: // ISB: iface, ts hi, ts lo, options
			if len(body) < 12 {
				t.Fatalf("ISB of %d bytes", len(body))
			}
			st := listedStats{iface: int(le.Uint32(body))}
			l.options(t, body[12:], func(code uint16, v []byte) {
				if len(v) != 8 {
					return
				}
				switch code {
				case 4:
					st.ifRecv, st.hasRecv = le.Uint64(v), true
				case 5:
					st.ifDrop, st.hasDrop = le.Uint64(v), true
				case 8:
					st.usrDeliv = le.Uint64(v)
				}
			})
			l.isbs = append(l.isbs, st)
		}
		off += n
	}
	return l
}

func (l *blockLister) options(t testing.TB, b []byte, fn func(code uint16, v []byte)) {
	t.Helper()
	le := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("%d stray bytes after the options", len(b))
		}
		code, n := le.Uint16(b), int(le.Uint16(b[2:]))
		if code == 0 {
			if n != 0 || len(b) != 4 {
				t.Fatalf("opt_endofopt of length %d with %d bytes after it", n, len(b)-4)
			}
			return
		}
		if 4+(n+3)&^3 > len(b) {
			t.Fatalf("option %d of length %d overruns its block", code, n)
		}
		fn(code, b[4:4+n])
		b = b[4+(n+3)&^3:]
	}
}
