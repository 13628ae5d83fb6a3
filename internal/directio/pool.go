//go:build linux

package directio

import "sync"

// Pool keeps the buffers of closed Writers for the next ones, so that the
// Writer of each new file in a rotation does not map fresh memory and fault
// it in again: zeroing fresh huge pages on first touch showed as 4-6% of
// nflogcap's CPU in a 2-million-packet flood on this machine's VM, taken on
// the capture's goroutine. A Pool is safe for concurrent use. Buffers come
// back reset but not cleared: a Writer only writes out bytes it put there,
// and zero-pads a partial last block (see writeBuffer).
type Pool struct {
	size int // BufferSize of every buffer in the pool
	keep int // idle buffers kept; more are released
	mu   sync.Mutex
	idle []*buffer // the most recently returned last
	done bool
}

// NewPool returns a pool of buffers of bufferSize bytes (rounded up to a
// multiple of 4096) that keeps at most keep idle buffers.
func NewPool(bufferSize, keep int) *Pool {
	if bufferSize <= 0 {
		bufferSize = DefaultBufferSize
	}
	return &Pool{size: (bufferSize + blockSize - 1) &^ (blockSize - 1), keep: keep}
}

// get returns an idle buffer, the most recently used first (its pages are
// the likeliest to be mapped and cached), or a new one.
func (p *Pool) get() *buffer {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		b := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	return newBuffer(p.size)
}

// put takes back a buffer no Writer uses any more.
func (p *Pool) put(b *buffer) {
	b.reset()
	p.mu.Lock()
	if !p.done && len(p.idle) < p.keep {
		p.idle = append(p.idle, b)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	b.release()
}

// Close releases the idle buffers; buffers returned afterwards are released
// as they come back. Writers still open keep working.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.done = nil, true
	p.mu.Unlock()
	for _, b := range idle {
		b.release()
	}
}

// freeList holds a Writer's buffers that are not in use, the most recently
// returned on top: when the disk keeps up, Write cycles through the same
// two buffers, whose memory stays mapped and cached, and never touches the
// others (a FIFO would fault in and cycle through all of them).
type freeList struct {
	mu    sync.Mutex
	bufs  []*buffer
	ready chan struct{} // one token per buffer in bufs
}

func newFreeList(n int) *freeList {
	return &freeList{bufs: make([]*buffer, 0, n), ready: make(chan struct{}, n)}
}

func (f *freeList) put(b *buffer) {
	f.mu.Lock()
	f.bufs = append(f.bufs, b)
	f.mu.Unlock()
	f.ready <- struct{}{}
}

// tryTake returns a free buffer, or nil when none is free.
func (f *freeList) tryTake() *buffer {
	select {
	case <-f.ready:
		return f.pop()
	default:
		return nil
	}
}

// take returns a free buffer, waiting for one.
func (f *freeList) take() *buffer {
	<-f.ready
	return f.pop()
}

func (f *freeList) pop() *buffer {
	f.mu.Lock()
	b := f.bufs[len(f.bufs)-1]
	f.bufs = f.bufs[:len(f.bufs)-1]
	f.mu.Unlock()
	return b
}
