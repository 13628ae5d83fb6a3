//go:build linux

package directio

import "hash"

// blockSize is the alignment O_DIRECT gets: offsets, lengths and buffer
// addresses are multiples of it. 4096 suits every logical block size in use.
const blockSize = 4096

// Defaults for zero Options fields.
const (
	DefaultBufferSize = 4 << 20
	DefaultBuffers    = 4
)

// maxRecordEnds bounds how many record ends a buffer remembers. Past it they
// are thinned out (see buffer.addEnd), which can cut a few records more after
// an error but never leaves a torn record.
const maxRecordEnds = 512

// Options configures a Writer. A nil *Options, or a zero field, means the
// default.
type Options struct {
	// BufferSize is the size of each buffer in bytes, a multiple of 4096.
	// Default 4 MiB. Data reaches the writer goroutine a buffer at a time (or
	// on Flush), so this is also the size of most write system calls.
	BufferSize int

	// Buffers is the number of buffers: one being filled by Write, the others
	// queued or being written. Default 4. Write blocks only when all are in
	// use, which Stats counts as back-pressure.
	Buffers int

	// Direct asks for O_DIRECT on files made by Create. Where the filesystem
	// refuses it (ramfs, some FUSE filesystems), the Writer falls back to
	// ordinary writes and Stats().Direct reports false. Ignored by NewWriter.
	Direct bool

	// SyncOnFlush fdatasyncs a regular file after each buffer handed over by
	// Flush is written, so that a power loss, not only a crash of the
	// process, loses only what was not yet flushed. Neither the caller nor
	// later writes wait for it: it runs on a goroutine of its own, and
	// requests made while one runs are served by one more. Meant for files
	// flushed about once a second.
	SyncOnFlush bool

	// SyncBytes, with SyncOnFlush, also asks for an fdatasync after every
	// SyncBytes bytes written since the last one (0: only after Flush). A
	// device may take time in proportion to the data written since its last
	// cache flush, and hold other writes meanwhile: a VM disk whose host
	// caches writes did, 150 to 480 ms for a second of a 350 MB/s capture
	// (measured here). Smaller, more frequent syncs keep each stall short
	// enough for the buffers to ride out.
	SyncBytes int64

	// Hash, if set, is fed every byte of the stream once, in file order, by the
	// writer goroutine after the byte was written. Read it only after Close,
	// and only when Stats().Hashed equals the final length of the file (an
	// error may have cut the file or left bytes unhashed).
	Hash hash.Hash

	// OnNoSpace, if set, is called by the writer goroutine when a write fails
	// with ENOSPC. If it returns true (it freed room, say by deleting an old
	// file), the write is retried, and it is called again if the retry finds
	// the disk full again (another writer took the room); once it returns
	// false the error stands.
	OnNoSpace func() bool

	// Pool, if set and made for this BufferSize, lends the buffers: they
	// come from it and go back to it at Close, for the next file's Writer.
	Pool *Pool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.BufferSize <= 0 {
		r.BufferSize = DefaultBufferSize
	}
	if r.Buffers <= 0 {
		r.Buffers = DefaultBuffers
	}
	return r
}
