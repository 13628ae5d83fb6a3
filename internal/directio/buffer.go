//go:build linux

package directio

import "unsafe"

// buffer is one unit of hand-off between Write and the writer goroutine.
type buffer struct {
	mem     []byte  // len BufferSize, address aligned to blockSize
	n       int     // bytes of data in mem
	start   int64   // stream offset of mem[0]
	ends    []int64 // stream offsets where records end inside this buffer
	partial bool    // handed over by Flush or Close before it was full
}

// newBuffer allocates size bytes aligned to blockSize by over-allocating; the
// Go heap keeps the memory, so nothing needs to be unmapped.
func newBuffer(size int) *buffer {
	raw := make([]byte, size+blockSize)
	off := 0
	if rem := int(uintptr(unsafe.Pointer(&raw[0])) % blockSize); rem != 0 {
		off = blockSize - rem
	}
	return &buffer{
		mem:  raw[off : off+size : off+size],
		ends: make([]int64, 0, maxRecordEnds),
	}
}

// addEnd records that a record ends at stream offset end. When the list is
// full every other end is dropped, so memory stays fixed while the ends kept
// stay spread over the whole buffer: a write that fails part way (ENOSPC)
// cuts the file close to where the data on disk really ends, not back to the
// first maxRecordEnds records. The cost is one pass per maxRecordEnds/2 records.
func (b *buffer) addEnd(end int64) {
	if len(b.ends) == cap(b.ends) {
		k := 0
		for i := 1; i < len(b.ends); i += 2 {
			b.ends[k] = b.ends[i]
			k++
		}
		b.ends = b.ends[:k]
	}
	b.ends = append(b.ends, end)
}

func (b *buffer) reset() {
	b.n = 0
	b.start = 0
	b.ends = b.ends[:0]
	b.partial = false
}

func alignDown(n int) int { return n &^ (blockSize - 1) }
