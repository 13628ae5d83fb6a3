package nflog

import (
	"encoding/binary"
	"errors"
)

// Netlink attribute header: u16 length (header included), u16 type, native
// byte order; the value follows, padded to 4 bytes.
const (
	nlaHeaderLen = 4
	nlaTypeMask  = 0x3fff // drops NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

var (
	errAttrTruncated = errors.New("attribute header truncated")
	errAttrLength    = errors.New("attribute length out of bounds")
	errAttrSize      = errors.New("attribute value has the wrong size")
)

// attrDecoder walks netlink attributes in place. It is what
// netlink.AttributeDecoder does, minus the copy of every value that decoder
// makes: on the per-packet path that copy (payload included) would be an
// allocation per attribute.
type attrDecoder struct {
	b    []byte // attributes not yet visited
	typ  uint16 // type of the current attribute, flags masked off
	data []byte // value of the current attribute, a view into the input
	err  error
}

func newAttrDecoder(b []byte) attrDecoder { return attrDecoder{b: b} }

// next advances to the next attribute. It returns false at the end or on
// malformed input; err tells which.
func (d *attrDecoder) next() bool {
	if d.err != nil || len(d.b) == 0 {
		return false
	}
	if len(d.b) < nlaHeaderLen {
		d.err = errAttrTruncated
		return false
	}
	l := int(binary.NativeEndian.Uint16(d.b))
	if l < nlaHeaderLen || l > len(d.b) {
		d.err = errAttrLength
		return false
	}
	d.typ = binary.NativeEndian.Uint16(d.b[2:]) & nlaTypeMask
	d.data = d.b[nlaHeaderLen:l]
	// The last attribute may end without its padding.
	d.b = d.b[min(align4(l), len(d.b)):]
	return true
}

// be16 and be32 read big-endian integer values of exactly their size; the
// kernel sends attribute integers in network order.
func (d *attrDecoder) be16() uint16 {
	if len(d.data) != 2 {
		d.err = errAttrSize
		return 0
	}
	return binary.BigEndian.Uint16(d.data)
}

func (d *attrDecoder) be32() uint32 {
	if len(d.data) != 4 {
		d.err = errAttrSize
		return 0
	}
	return binary.BigEndian.Uint32(d.data)
}

func align4(n int) int { return (n + 3) &^ 3 }
