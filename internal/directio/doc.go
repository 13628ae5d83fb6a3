//go:build linux

// Package directio writes a stream of records to a file or pipe from a
// goroutine of its own, so that the caller (the capture loop) never waits for
// the disk unless every buffer is already queued.
//
// Write copies into one of a fixed number of large buffers; a full buffer (or a
// partly filled one, on Flush) is handed to the writer goroutine, which writes
// it with one system call. Memory is BufferSize*Buffers and does not grow.
//
// With Options.Direct, files are written with O_DIRECT from 4096-byte aligned
// buffers at aligned offsets, which spares the CPU the copy into the page cache
// (about 2 ns per byte) and the stalls of dirty-page writeback. A flushed buffer
// whose data does not end on a 4096-byte boundary is written with its last
// block padded with zeros, the file is then truncated to the real length, and
// that last block is written again, completed, with the next buffer. So a file
// always ends where its data ends after Flush has been written, Sync and Close.
//
// Callers pass whole records (for nflogcap, whole pcapng blocks) in each Write.
// The writer remembers where records end, and after a write error (ENOSPC,
// EIO) Close cuts the file back to the end of the last record that reached the
// file completely, so the file stays readable.
package directio
