//go:build linux

package directio

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// Test records: a 4-byte length of the whole record, a 4-byte sequence
// number, then filler derived from the sequence number, so that any prefix of
// a stream can be checked against what was written.

const recordHeader = 8

// record returns record seq of the given total length (at least recordHeader).
func record(dst []byte, seq uint32, length int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(length))
	dst = binary.BigEndian.AppendUint32(dst, seq)
	for i := recordHeader; i < length; i++ {
		dst = append(dst, byte(int(seq)*31+i))
	}
	return dst
}

// recordLen is the length of record seq in the deterministic streams used by
// the crash test.
func recordLen(seq uint32) int { return recordHeader + int(seq*7919%3000) }

// checkRecords parses data as consecutive records numbered from 0 and returns
// how many are complete and the length of that prefix. It reports an error if
// a complete-looking record has the wrong content.
func checkRecords(data []byte, lengthOf func(uint32) int) (count int, valid int, err error) {
	var buf []byte
	for seq := uint32(0); ; seq++ {
		if len(data)-valid < recordHeader {
			return int(seq), valid, nil
		}
		l := int(binary.BigEndian.Uint32(data[valid:]))
		if lengthOf != nil && l != lengthOf(seq) && l != 0 {
			return int(seq), valid, fmt.Errorf("record %d at %d: length %d, want %d", seq, valid, l, lengthOf(seq))
		}
		if l < recordHeader || len(data)-valid < l {
			return int(seq), valid, nil // torn tail
		}
		buf = record(buf[:0], seq, l)
		if string(data[valid:valid+l]) != string(buf) {
			return int(seq), valid, fmt.Errorf("record %d at %d: content differs", seq, valid)
		}
		valid += l
	}
}

// randomSizes returns record lengths with a mix of tiny, block-sized and
// buffer-spanning records.
func randomSizes(r *rand.Rand, n, bufferSize int) []int {
	sizes := make([]int, n)
	for i := range sizes {
		switch r.IntN(10) {
		case 0:
			sizes[i] = recordHeader + r.IntN(3*bufferSize)
		case 1:
			sizes[i] = blockSize * (1 + r.IntN(3))
		default:
			sizes[i] = recordHeader + r.IntN(2000)
		}
	}
	return sizes
}
