//go:build linux

package directio

import (
	"sync/atomic"
	"time"
)

// Stats describes what a Writer did so far.
type Stats struct {
	Buffers       int64         // buffers completely written
	Bytes         int64         // bytes of the stream written to the file (each byte once)
	SyscallBytes  int64         // bytes passed to write system calls, counting padding and rewritten tail blocks
	Blocked       time.Duration // total time Write waited for a free buffer (back-pressure)
	Blocks        int64         // number of times Write waited
	MaxQueueDepth int           // most buffers ever queued at once
	Direct        bool          // writes go through O_DIRECT
	Hashed        int64         // bytes fed to Options.Hash
	Syncs         int64         // fdatasyncs done for SyncOnFlush and Sync
}

// counters are updated by both goroutines, hence atomics.
type counters struct {
	buffers      atomic.Int64
	bytes        atomic.Int64
	syscallBytes atomic.Int64
	blocked      atomic.Int64
	blocks       atomic.Int64
	maxDepth     atomic.Int64
	syncs        atomic.Int64
}

func (c *counters) noteDepth(d int) {
	if int64(d) > c.maxDepth.Load() {
		c.maxDepth.Store(int64(d)) // only the caller's goroutine stores
	}
}

// Stats returns the counters. It may be called from any goroutine.
func (w *Writer) Stats() Stats {
	s := Stats{
		Buffers:       w.stats.buffers.Load(),
		Bytes:         w.stats.bytes.Load(),
		SyscallBytes:  w.stats.syscallBytes.Load(),
		Blocked:       time.Duration(w.stats.blocked.Load()),
		Blocks:        w.stats.blocks.Load(),
		MaxQueueDepth: int(w.stats.maxDepth.Load()),
		Direct:        w.flusher.direct.Load(),
		Syncs:         w.stats.syncs.Load(),
	}
	if w.opts.Hash != nil {
		s.Hashed = s.Bytes
	}
	return s
}
