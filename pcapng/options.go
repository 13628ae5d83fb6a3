package pcapng

import "encoding/binary"

// Everything the Writer produces is in binary.NativeEndian: Wireshark accepts
// either byte order from files but requires the host's order on pipes.

// Option codes (draft-ietf-opsawg-pcapng, section "Options" of each block).
const (
	optEndOfOpt = 0
	optComment  = 1

	shbHardware = 2
	shbOS       = 3
	shbUserAppl = 4

	ifName        = 2
	ifDescription = 3
	ifTsresol     = 9
	ifFilter      = 11
	ifOS          = 12
	ifHardware    = 15

	epbFlags     = 2
	epbDropCount = 4
	epbPacketID  = 5

	isbStartTime = 2
	isbEndTime   = 3
	isbIfRecv    = 4
	isbIfDrop    = 5
	isbUsrDeliv  = 8
)

// maxOptionLength is the largest option value: the length field is 16 bits.
const maxOptionLength = 0xFFFF

// pad4 rounds n up to a multiple of 4: blocks and option values are padded
// to 32-bit boundaries.
func pad4(n int) int { return (n + 3) &^ 3 }

// optionSize is the encoded size of an option with an n-byte value, padding
// included. An empty value takes no space: empty options are omitted.
func optionSize(n int) int {
	if n == 0 {
		return 0
	}
	return 4 + pad4(n)
}

// putOption encodes an option with a string or byte value at the start of b,
// padding with zeros, and returns the bytes used. An empty value is omitted.
// b may hold stale bytes from earlier blocks, hence the explicit zeroing.
func putOption[T string | []byte](b []byte, code uint16, value T) int {
	if len(value) == 0 {
		return 0
	}
	end := 4 + pad4(len(value))
	// The padding, zeroed with one store before the value covers the rest
	// of its word.
	binary.NativeEndian.PutUint32(b[end-4:], 0)
	binary.NativeEndian.PutUint16(b, code)
	binary.NativeEndian.PutUint16(b[2:], uint16(len(value)))
	copy(b[4:], value)
	return end
}

// putUint32Option encodes a 4-byte integer option and returns 8.
func putUint32Option(b []byte, code uint16, v uint32) int {
	binary.NativeEndian.PutUint16(b, code)
	binary.NativeEndian.PutUint16(b[2:], 4)
	binary.NativeEndian.PutUint32(b[4:], v)
	return 8
}

// putUint64Option encodes an 8-byte integer option and returns 12.
func putUint64Option(b []byte, code uint16, v uint64) int {
	binary.NativeEndian.PutUint16(b, code)
	binary.NativeEndian.PutUint16(b[2:], 8)
	binary.NativeEndian.PutUint64(b[4:], v)
	return 12
}

// putTimestampOption encodes a timestamp option (isb_starttime,
// isb_endtime): like the timestamp fields of blocks, it is two 32-bit words,
// the high one first, each in the section's byte order.
func putTimestampOption(b []byte, code uint16, ts uint64) int {
	binary.NativeEndian.PutUint16(b, code)
	binary.NativeEndian.PutUint16(b[2:], 8)
	putTimestamp(b[4:], ts)
	return 12
}

// putTimestamp encodes a 64-bit timestamp as two 32-bit words, high first.
func putTimestamp(b []byte, ts uint64) {
	binary.NativeEndian.PutUint32(b, uint32(ts>>32))
	binary.NativeEndian.PutUint32(b[4:], uint32(ts))
}

// putEndOfOptions encodes opt_endofopt and returns 4.
func putEndOfOptions(b []byte) int {
	binary.NativeEndian.PutUint32(b, 0)
	return 4
}
