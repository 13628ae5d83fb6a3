package rotate

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nflogcap/nflogcap/internal/directio"
)

// finishBacklog bounds the files waiting to be fsynced and renamed. Each
// holds its write buffers until then; a capture that outruns it waits.
const finishBacklog = 8

// syncBytes makes a file fdatasync after this much data besides once a
// second: on a disk whose flush takes time in proportion to the data since
// the last one, it bounds each stall (see directio.Options.SyncBytes).
const syncBytes = 32 << 20

// finishInFlight is how many closed files may be with the finisher at once:
// a rotation while one is still being finished waits for it (see
// queueFinish).
const finishInFlight = 1

// Rotator writes a capture into rotating files. Open, Write, RotateIfDue,
// Rotate, Tick, Stats and Close must be called from one goroutine (the
// capture loop); finishing, compressing and post-rotate commands run on
// goroutines of their own.
type Rotator struct {
	cfg            Config
	dir, base, ext string
	lock           *os.File

	// Owned by the capture goroutine.
	cur       *openFile
	nextSeq   int
	deadline  time.Time // time-based rotation is due at this time
	lastFlush time.Time
	err       error // sticky: the Rotator stopped
	closed    bool
	closeErr  error

	finishQ     chan finishJob
	finishSlots chan struct{} // one token per file queued for the finisher
	finished    chan struct{}
	work        *worker
	buffers     *directio.Pool // write buffers, passed from each file to the next

	bgFailed   atomic.Bool
	files      atomic.Int64  // finished files
	bytes      atomic.Int64  // bytes in finished files
	cutBytes   atomic.Int64  // bytes write errors cut off files
	cutPackets atomic.Uint64 // packets among them, where known
	cutUnknown atomic.Bool   // some cut bytes held packets not counted

	mu              sync.Mutex // guards what follows; background goroutines share it
	bgErrs          []error    // errors of background work; the first stops the Rotator
	ring            []ringFile // files of this base in the directory, oldest first
	man             *manifest  // nil without Config.Manifest
	manifestBehind  bool       // a manifest write waits for room (reported once)
	compressPending int
}

// openFile is a file being written or waiting to be finished.
type openFile struct {
	info       FileInfo
	part       string // path written to (NAME.part; Path itself in Single mode)
	w          *directio.Writer
	hash       hash.Hash
	sum        *Summary // from Hooks.Close; nil when unknown
	hookClosed bool     // Hooks.Close was called
	writeErr   error    // the file ended early
}

// ringFile is a finished (or unfinished, busy) file counted by the ring.
type ringFile struct {
	seq          int
	name         string
	busy         bool // being written, finished, compressed, handed to PostRotate or reconciled
	removeFailed bool // deleting it failed (reported once); it is tried again
}

// finishJob is work for the finisher goroutine.
type finishJob struct {
	f       *openFile     // a file to finish, or nil
	syncDir bool          // a file was created: fsync the directory, prune the ring
	done    chan struct{} // closed when finished, for callers that wait
	err     *error        // where a waiting caller gets the result
}

// Stats describes the output so far.
type Stats struct {
	Files   int64          // files finished
	Bytes   int64          // bytes in finished files (before compression)
	Current string         // path of the file being written
	Writer  directio.Stats // the current file's writer

	// CutBytes counts bytes that were written but that a write error
	// (disk full) cut off the end of a file, the current one or one being
	// finished after a rotation; CutPackets the packets among them, as far
	// as the Hooks can count them (a Scanner), and CutUnknown says some
	// were not counted. Packets in CutPackets are in no file: a capture
	// counting what it wrote subtracts them.
	CutBytes   int64
	CutPackets uint64
	CutUnknown bool
}

// Open checks cfg, locks the directory, looks at what earlier runs left there,
// creates the first file and calls Hooks.Open.
func Open(cfg Config) (*Rotator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	dir, base, ext := splitPath(cfg.Path)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("rotate: open %s: %w", cfg.Path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("rotate: open %s: %s is not a directory", cfg.Path, dir)
	}
	r := &Rotator{cfg: cfg, dir: dir, base: base, ext: ext, nextSeq: 1}
	if !cfg.Single || cfg.Manifest {
		lock, err := lockDir(dir, cfg.FileMode)
		if err != nil {
			return nil, err
		}
		r.lock = lock
	}
	unrecorded, err := r.loadDir()
	if err != nil {
		r.lock.Close()
		return nil, err
	}
	r.finishQ = make(chan finishJob, finishBacklog)
	r.finishSlots = make(chan struct{}, finishInFlight)
	r.finished = make(chan struct{})
	r.work = newWorker(r)
	keep := cfg.Buffers
	if keep <= 0 {
		keep = directio.DefaultBuffers
	}
	r.buffers = directio.NewPool(cfg.BufferSize, keep)
	if r.man != nil {
		// Off the capture's path: hashing what an earlier run left
		// unrecorded may take seconds, while the kernel queues packets.
		r.work.add(job{reconcile: true, unrecorded: unrecorded})
	}
	go r.runFinisher()
	now := cfg.Clock()
	if err := r.openNext(now); err != nil {
		r.shutdown()
		return nil, err
	}
	r.lastFlush = now
	return r, nil
}

// loadDir reads the ring and the sequence from files of earlier runs, and
// the manifest. It resolves what a run killed while compressing left (see
// resolveCompression) and returns the finished files of this base that the
// manifest does not list, for reconcile; they are busy in the ring until
// then.
func (r *Rotator) loadDir() ([]nameParts, error) {
	if r.cfg.Manifest {
		m, err := loadManifest(r.dir, r.cfg.FileMode)
		if err != nil {
			return nil, err
		}
		if r.cfg.MaxFiles > 0 {
			m.noSpace = r.dropOldest
		}
		if m.tornIndex > 0 {
			r.cfg.Logf("rotate: cut a torn last line (%d bytes) off %s, left by a run killed while appending it", m.tornIndex, filepath.Join(r.dir, ManifestIndex))
		}
		r.man = m
	}
	if r.cfg.Single {
		return nil, nil
	}
	found, err := scanDir(r.dir, r.base, r.ext)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	if r.man != nil {
		for _, s := range r.man.sums {
			listed[s.name] = true
		}
	}
	found = r.resolveCompression(found, listed)
	var unrecorded []nameParts
	for _, p := range found {
		r.nextSeq = max(r.nextSeq, p.seq+1)
		if p.part {
			r.cfg.Logf("rotate: %s was left by an earlier run that did not finish; recover it to make it whole", filepath.Join(r.dir, p.name))
			continue
		}
		rf := ringFile{seq: p.seq, name: p.name}
		if r.man != nil && !listed[p.name] {
			unrecorded = append(unrecorded, p)
			rf.busy = true
		}
		r.ring = append(r.ring, rf)
	}
	return unrecorded, nil
}

// openNext creates the next file, writes its header and makes it current.
func (r *Rotator) openNext(now time.Time) error {
	// Hashing costs about as much CPU as the rest of the capture path
	// together; only the manifest needs it.
	var h hash.Hash
	if r.cfg.Manifest {
		h = sha256.New()
	}
	opts := &directio.Options{
		BufferSize:  r.cfg.BufferSize,
		Buffers:     r.cfg.Buffers,
		Direct:      r.cfg.Direct,
		SyncOnFlush: true,
		SyncBytes:   syncBytes,
		Hash:        h,
		Pool:        r.buffers,
	}
	f := &openFile{info: FileInfo{Start: now}, hash: h}
	if r.cfg.MaxFiles > 0 {
		// f.info.Seq is set by create, before anything is written.
		opts.OnNoSpace = func() bool { return r.freeSpace(f.info.Seq) }
	}
	if err := r.create(f, opts); err != nil {
		return err
	}
	if r.cfg.Hooks != nil {
		if err := r.cfg.Hooks.Open(f.w, f.info); err != nil {
			f.w.Close()
			os.Remove(f.part)
			return fmt.Errorf("rotate: start %s: %w", f.info.Path, err)
		}
	}
	r.cur = f
	if r.cfg.Interval > 0 {
		r.deadline = nextDeadline(now, r.cfg.Interval, r.cfg.Align)
	}
	if !r.cfg.Single {
		r.mu.Lock()
		r.ring = append(r.ring, ringFile{seq: f.info.Seq, name: f.info.Name, busy: true})
		r.mu.Unlock() // the finisher prunes, off the capture's path
	}
	r.finishQ <- finishJob{syncDir: true}
	return nil
}

// create makes f's file: Path in Single mode, else the next free name.
func (r *Rotator) create(f *openFile, opts *directio.Options) error {
	var err error
	if r.cfg.Single {
		f.info.Path, f.info.Name, f.part = r.cfg.Path, filepath.Base(r.cfg.Path), r.cfg.Path
		if r.cfg.Overwrite {
			if fi, serr := os.Lstat(f.part); serr == nil && fi.Mode().IsRegular() {
				if err := os.Remove(f.part); err != nil {
					return fmt.Errorf("rotate: overwrite %s: %w", f.part, err)
				}
			}
		}
		f.w, err = directio.Create(f.part, r.cfg.FileMode, opts)
		return err
	}
	for tries := 0; ; tries++ {
		seq := r.nextSeq
		r.nextSeq++
		name := fileName(r.base, seq, f.info.Start, r.ext)
		path := filepath.Join(r.dir, name)
		if exists(path) || exists(path+gzSuffix) || exists(path+zstSuffix) {
			continue
		}
		f.w, err = directio.Create(path+partSuffix, r.cfg.FileMode, opts)
		if errors.Is(err, os.ErrExist) && tries < 1000 {
			continue
		}
		if err != nil {
			return err
		}
		f.info.Path, f.info.Name, f.info.Seq, f.part = path, name, seq, path+partSuffix
		return nil
	}
}

// nextDeadline is when a file started at start is due to end. Aligned, it
// is the first whole multiple of interval since the Unix epoch
// (1970-01-01T00:00:00Z) after start (see Config.Align). time.Truncate
// alone counts from Go's zero time (year 1), which agrees with the epoch
// only for intervals that divide 24 h.
func nextDeadline(start time.Time, interval time.Duration, align bool) time.Time {
	if !align {
		return start.Add(interval)
	}
	// Truncate's grid is shifted to the epoch's: b is the last multiple of
	// interval since the epoch at or before start.
	epoch := time.Unix(0, 0)
	shift := epoch.Sub(epoch.Truncate(interval))
	b := start.Truncate(interval).Add(shift)
	if b.After(start) {
		b = b.Add(-interval)
	}
	return b.Add(interval)
}

// Write writes whole records to the current file. It never rotates.
func (r *Rotator) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.cur.w.Write(p)
	if err != nil {
		return n, r.fail(err)
	}
	return n, nil
}

// check returns the error that stops the Rotator: its own, a background
// goroutine's, or the current writer's.
func (r *Rotator) check() error {
	if r.err != nil {
		return r.err
	}
	if r.bgFailed.Load() {
		r.mu.Lock()
		r.err = r.bgErrs[0]
		r.mu.Unlock()
		return r.err
	}
	if err := r.cur.w.Err(); err != nil {
		return r.fail(err)
	}
	return nil
}

// Err returns the error that stopped the Rotator, if any. When the current
// file's writer has failed (a caller writing through the io.Writer Hooks.Open
// received may learn it first), the file is closed at its last complete
// record, as after an error of Write, and the *WriteError is returned.
func (r *Rotator) Err() error { return r.check() }

// RotateIfDue rotates when the current file has reached MaxBytes or its time
// is up. Call it between records, as often as convenient: it makes no
// system call and does not allocate unless it rotates.
func (r *Rotator) RotateIfDue() (bool, error) {
	if err := r.check(); err != nil {
		return false, err
	}
	if r.cfg.Single {
		return false, nil
	}
	due := r.cfg.MaxBytes > 0 && r.cur.w.Size() >= r.cfg.MaxBytes
	var now time.Time
	if !due && r.cfg.Interval > 0 {
		now = r.cfg.Clock()
		due = !now.Before(r.deadline)
	}
	if !due {
		return false, nil
	}
	if now.IsZero() {
		now = r.cfg.Clock()
	}
	return true, r.rotate(now)
}

// Rotate starts a new file now (SIGHUP). In Single mode it does nothing.
func (r *Rotator) Rotate() error {
	if err := r.check(); err != nil {
		return err
	}
	if r.cfg.Single {
		return nil
	}
	return r.rotate(r.cfg.Clock())
}

// rotate ends the current file with its trailer, starts the next one and
// leaves the old one to the finisher, so the capture does not wait for its
// fsync, unless the file before it is still being finished.
func (r *Rotator) rotate(now time.Time) error {
	old := r.cur
	if err := r.closeHook(old); err != nil {
		return r.fail(err)
	}
	r.queueFinish(finishJob{f: old})
	if err := r.openNext(now); err != nil {
		r.cur = nil
		r.err = err
		return err
	}
	return nil
}

// queueFinish hands a file to the finisher. At most finishInFlight files
// are there: a capture that outruns the finisher (tiny files, a slow
// fsync) waits here until the previous file is finished, instead of piling
// up files, each holding its buffers and descriptor, that in ring mode
// could not be deleted to make room while they wait.
func (r *Rotator) queueFinish(job finishJob) {
	r.finishSlots <- struct{}{}
	r.finishQ <- job
}

// closeHook writes f's trailer and keeps its summary, once per file. The
// summary is kept when Close fails too: if the file then ends early, it
// counts the packets that were cut (see noteCut).
func (r *Rotator) closeHook(f *openFile) error {
	if r.cfg.Hooks == nil || f.hookClosed {
		return nil
	}
	f.hookClosed = true
	sum, err := r.cfg.Hooks.Close(f.w)
	f.sum = &sum
	return err
}

// Tick flushes buffered data when FlushInterval has passed since the last
// flush; call it at NextDue (or more often), and RotateIfDue with it. It
// reports errors of the background goroutines.
func (r *Rotator) Tick() error {
	if err := r.check(); err != nil {
		return err
	}
	now := r.cfg.Clock()
	if now.Sub(r.lastFlush) < r.cfg.FlushInterval {
		return nil
	}
	r.lastFlush = now
	if err := r.cur.w.Flush(); err != nil {
		return r.fail(err)
	}
	return nil
}

// NextDue is when Tick or RotateIfDue next has work without new data: the
// next durability flush, or the end of the current file's time, whichever is
// first. A caller that sleeps until then instead of ticking at a fixed pace
// costs the machine nothing while traffic is quiet.
func (r *Rotator) NextDue() time.Time {
	due := r.lastFlush.Add(r.cfg.FlushInterval)
	if !r.cfg.Single && r.cfg.Interval > 0 && r.deadline.Before(due) {
		due = r.deadline
	}
	return due
}

// fail handles a write error of the current file: the file is cut back to
// its last complete record, closed and renamed (by the finisher, waiting for
// it), and the Rotator stops with a *WriteError.
func (r *Rotator) fail(cause error) error {
	f := r.cur
	r.cur = nil
	f.writeErr = cause
	// Its trailer cannot be written now, but the hooks' count of what was
	// written tells how many packets the cut loses.
	r.closeHook(f)
	var err error
	done := make(chan struct{})
	r.queueFinish(finishJob{f: f, done: done, err: &err})
	<-done
	if err == nil {
		err = &WriteError{Path: f.info.Path, Length: f.w.Length(), Cut: f.w.Size() - f.w.Length(), Err: cause}
	}
	r.err = err
	return err
}

// Stats returns counters of the output.
func (r *Rotator) Stats() Stats {
	s := Stats{
		Files: r.files.Load(), Bytes: r.bytes.Load(),
		CutBytes: r.cutBytes.Load(), CutPackets: r.cutPackets.Load(), CutUnknown: r.cutUnknown.Load(),
	}
	if r.cur != nil {
		s.Current = r.cur.part
		s.Writer = r.cur.w.Stats()
	}
	return s
}

// Close ends the current file (Hooks.Close, flush, fsync, rename), waits
// for compression and post-rotate commands up to CloseTimeout, and releases
// the directory. It returns the error that stopped the Rotator, if any, and
// errors of the background work. Calling it again returns the same.
func (r *Rotator) Close() error {
	if r.closed {
		return r.closeErr
	}
	r.closed = true
	errs := []error{r.err}
	if r.cur != nil {
		f := r.cur
		r.cur = nil
		if err := r.closeHook(f); err != nil {
			f.writeErr = err
		}
		r.queueFinish(finishJob{f: f})
	}
	r.shutdown()
	r.mu.Lock()
	for _, err := range r.bgErrs {
		if err != r.err {
			errs = append(errs, err) // a file finished after the first failure may have failed too
		}
	}
	if r.man != nil && r.man.behind() {
		if err := r.man.flush(r.cfg.Clock()); err != nil {
			errs = append(errs, fmt.Errorf("rotate: the manifest lacks the last files (%d index lines unwritten): %w", len(r.man.pending), err))
		}
	}
	r.mu.Unlock()
	r.err = ErrClosed
	r.closeErr = errors.Join(errs...)
	return r.closeErr
}

// shutdown stops the background goroutines and releases the lock.
func (r *Rotator) shutdown() {
	close(r.finishQ)
	<-r.finished
	r.buffers.Close()
	r.work.stop(r.cfg.CloseTimeout)
	if r.lock != nil {
		r.lock.Close()
	}
}

// maxBgErrs bounds the errors of background work kept for Close; the
// first already stops the Rotator, so only a few more can follow.
const maxBgErrs = 8

func (r *Rotator) setBgErr(err error) {
	r.mu.Lock()
	r.addBgErr(err)
	r.mu.Unlock()
}

// addBgErr is setBgErr with r.mu held.
func (r *Rotator) addBgErr(err error) {
	if len(r.bgErrs) < maxBgErrs {
		r.bgErrs = append(r.bgErrs, err)
	}
	r.bgFailed.Store(true)
}
