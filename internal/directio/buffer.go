//go:build linux

package directio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// buffer is one unit of hand-off between Write and the writer goroutine.
type buffer struct {
	mem     []byte  // len BufferSize, address aligned to blockSize
	n       int     // bytes of data in mem
	start   int64   // stream offset of mem[0]
	ends    []int64 // stream offsets where records end inside this buffer
	partial bool    // handed over by Flush or Close before it was full
	mapping []byte  // the whole mapping mem is in; nil when on the Go heap
}

// hugePage is the size of a transparent huge page on x86-64 and arm64.
const hugePage = 2 << 20

// newBuffer allocates size bytes aligned to blockSize. It maps them
// anonymously, aligned to and advised for transparent huge pages: pinning the
// pages for each O_DIRECT write and the TLB misses of copying packets in then
// cost less (measured: about 0.1 µs less system CPU per 1400-byte packet).
// Where that fails, it over-allocates on the Go heap instead.
func newBuffer(size int) *buffer {
	if m, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err == nil {
		off := 0
		if rem := int(uintptr(unsafe.Pointer(&m[0])) % hugePage); rem != 0 {
			off = hugePage - rem
		}
		mem := m[off : off+size : off+size]
		_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only; works either way
		return &buffer{mem: mem, mapping: m, ends: make([]int64, 0, maxRecordEnds)}
	}
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

// release unmaps a mapped buffer; it must not be used afterwards.
func (b *buffer) release() {
	if b.mapping != nil {
		unix.Munmap(b.mapping)
		b.mapping, b.mem = nil, nil
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
