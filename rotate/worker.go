package rotate

import (
	"context"
	"path/filepath"
	"sync"
	"time"
)

// job is a final file waiting for compression and its post-rotate command,
// or (reconcile) the reconciliation of the directory with its manifest
// that Open asks for.
type job struct {
	fin      finished
	seq      int
	path     string
	compress bool

	reconcile  bool
	unrecorded []nameParts // finished files the manifest does not list
}

// worker runs jobs one at a time, in order, on its own goroutine, so that
// compression and commands never hold up the capture and use at most one
// core. The queue is a slice: jobs without compression are small, and those
// with it are bounded by Config.CompressBacklog.
type worker struct {
	r      *Rotator
	ctx    context.Context // cancelled when Close stops waiting
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	jobs     []job
	stopping bool
}

// lagWarning is the queue length at which Logf hears that post-rotate
// commands are slower than rotation.
const lagWarning = 16

func newWorker(r *Rotator) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{r: r, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *worker) add(j job) {
	w.mu.Lock()
	w.jobs = append(w.jobs, j)
	n := len(w.jobs)
	w.mu.Unlock()
	if n == lagWarning {
		w.r.cfg.Logf("rotate: %d finished files wait for compression or the post-rotate command", n)
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		if len(w.jobs) == 0 {
			stopping := w.stopping
			w.mu.Unlock()
			if stopping {
				return
			}
			<-w.wake
			continue
		}
		j := w.jobs[0]
		w.jobs = w.jobs[1:]
		w.mu.Unlock()
		w.do(j)
	}
}

// do compresses (unless stopped), records the file, runs the command and
// releases the file to the ring.
func (w *worker) do(j job) {
	r := w.r
	if j.reconcile {
		r.reconcile(w.ctx, j.unrecorded)
		return
	}
	fin, path := j.fin, j.path
	if j.compress {
		stopped := w.ctx.Err() != nil
		if stopped {
			r.cfg.Logf("rotate: stopped before compressing %s; it stays uncompressed", path)
		} else if c, err := compressFile(w.ctx, path, r.cfg.Compress, fin.sha256, r.cfg.FileMode, r.dir); err != nil {
			r.cfg.Logf("%v; %s stays uncompressed", err, path)
		} else {
			fin.name, fin.sha256, fin.bytes, fin.compressed = filepath.Base(c.path), c.sha256, c.bytes, true
			path = c.path
		}
		r.mu.Lock()
		r.compressPending--
		r.mu.Unlock()
		if err := r.record(fin, j.seq, true); err != nil {
			r.setBgErr(err)
		}
	}
	if len(r.cfg.PostRotate) > 0 {
		if w.ctx.Err() != nil {
			r.cfg.Logf("rotate: stopped before running the post-rotate command for %s", path)
		} else if err := runPostRotate(w.ctx, r.cfg.PostRotate, path, postRotateSlow, r.cfg.Logf); err != nil {
			r.cfg.Logf("%v", err)
		}
	}
	r.mu.Lock()
	r.settle(j.seq, fin.name, false)
	r.mu.Unlock()
}

// stop lets the queued jobs finish for up to timeout, then cancels what runs
// and finishes the rest without compressing or running commands.
func (w *worker) stop(timeout time.Duration) {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
		w.r.cfg.Logf("rotate: background work still running after %v; stopping it", timeout)
		w.cancel()
		<-w.done
	}
	w.cancel()
}
