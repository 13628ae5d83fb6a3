package loadgen

import "encoding/binary"

// SeqLen is the number of leading payload bytes that carry the sequence number.
const SeqLen = 8

// PutSeq writes seq big-endian into the first SeqLen bytes of b, so a capture can be
// checked packet by packet against what was sent.
func PutSeq(b []byte, seq uint64) { binary.BigEndian.PutUint64(b[:SeqLen], seq) }

// Seq reads the sequence number PutSeq wrote. ok is false when b is too short.
func Seq(b []byte) (seq uint64, ok bool) {
	if len(b) < SeqLen {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:SeqLen]), true
}

// Fill writes the fixed pattern that follows the sequence number, so that a
// capture tool that mangles payload bytes (not just drops packets) is caught.
func Fill(b []byte) {
	for i := SeqLen; i < len(b); i++ {
		b[i] = patternByte(i)
	}
}

// CheckPattern reports whether the bytes after the sequence number match Fill.
// A truncated payload (snap length) is checked as far as it goes.
func CheckPattern(b []byte) bool {
	for i := SeqLen; i < len(b); i++ {
		if b[i] != patternByte(i) {
			return false
		}
	}
	return true
}

func patternByte(i int) byte { return byte(i*7 + 3) }
