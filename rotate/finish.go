package rotate

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// freeSpaceWait bounds how long a write on a full disk waits, in ring mode,
// for an older file to be finished so that it can be deleted.
const freeSpaceWait = 2 * time.Second

// runFinisher finishes files in the order they were closed.
func (r *Rotator) runFinisher() {
	defer close(r.finished)
	for job := range r.finishQ {
		var err error
		if job.syncDir {
			err = syncDir(r.dir)
			r.mu.Lock()
			r.prune()
			r.mu.Unlock()
		} else {
			err = r.finish(job.f)
			<-r.finishSlots
		}
		switch {
		case job.done != nil:
			*job.err = err
			close(job.done)
		case err != nil:
			r.setBgErr(err)
		}
	}
}

// finish makes a closed file final: written out, cut to its last complete
// record if writing failed, fsynced, renamed from .part, the directory
// fsynced; then it goes to the manifest, the compressor and PostRotate.
func (r *Rotator) finish(f *openFile) error {
	werr := f.w.Close()
	if werr == nil {
		werr = f.writeErr
	}
	length := f.w.Length()
	var result error
	var closeSum *Summary // what the hooks counted, cut part included
	if werr != nil {
		result = &WriteError{Path: f.info.Path, Length: length, Cut: f.w.Size() - length, Err: werr}
		closeSum, f.sum = f.sum, nil // counts from the hooks include what was cut
	}
	if werr != nil && length == 0 && f.part != f.info.Path {
		r.noteCut(nil, f.info.Path, f.w.Size(), closeSum)
		// Not one complete record reached the disk (it was full before this
		// file got its turn): an empty file is no capture, so it goes, as
		// Recover removes such a .part file, and the manifest does not list it.
		if err := os.Remove(f.part); err != nil {
			return firstErr(result, err)
		}
		result.(*WriteError).Removed = true
		r.mu.Lock()
		r.ring = slices.DeleteFunc(r.ring, func(rf ringFile) bool { return rf.seq == f.info.Seq })
		r.mu.Unlock()
		return result
	}
	if f.part != f.info.Path {
		if err := renameNoReplace(f.part, f.info.Path); err != nil {
			return firstErr(result, err) // stays .part, for Recover
		}
		if err := syncDir(r.dir); err != nil {
			return firstErr(result, err)
		}
	}
	r.files.Add(1)
	r.bytes.Add(length)
	fin := finished{name: f.info.Name, bytes: length, sum: f.sum}
	if werr != nil {
		fin.err = werr.Error()
		r.noteCut(&fin, f.info.Path, f.w.Size()-length, closeSum)
	}
	if f.hash != nil && f.w.Stats().Hashed == length {
		fin.sha256 = hex.EncodeToString(f.hash.Sum(nil))
	} else if r.man != nil {
		sum, n, err := hashFile(f.info.Path)
		if err != nil {
			return firstErr(result, err)
		}
		fin.sha256, fin.bytes = sum, n
	}
	return firstErr(result, r.handOver(fin, f.info.Seq, f.info.Path))
}

// noteCut accounts for the bytes a write error cut off a file (cut of them,
// after the last complete record): the Rotator's counters and, when fin is
// not nil, its manifest record. When the Hooks can scan the file, the
// record gets what the kept part holds, and the packets cut are what Close
// counted (closeSum) less those; a removed file (fin nil) kept none.
func (r *Rotator) noteCut(fin *finished, path string, cut int64, closeSum *Summary) {
	if cut <= 0 {
		return
	}
	r.cutBytes.Add(cut)
	var kept *Summary
	if fin == nil {
		kept = &Summary{}
	} else if sc, ok := r.cfg.Hooks.(Scanner); ok {
		if s, err := scanFile(context.Background(), sc, path, ""); err != nil {
			r.cfg.Logf("rotate: count the packets kept in %s: %v", path, err)
		} else {
			kept = &s
		}
	}
	var cutPackets *uint64
	if kept != nil && closeSum != nil && closeSum.Packets >= kept.Packets {
		n := closeSum.Packets - kept.Packets
		cutPackets = &n
		r.cutPackets.Add(n)
	} else {
		r.cutUnknown.Store(true)
	}
	if fin != nil {
		fin.sum, fin.cutBytes, fin.cutPackets = kept, cut, cutPackets
	}
}

// handOver queues a final file for compression and PostRotate, or records
// it now when there is nothing to do or the compression backlog is full.
func (r *Rotator) handOver(fin finished, seq int, path string) error {
	r.mu.Lock()
	compress := r.cfg.Compress != "" && r.compressPending < r.cfg.CompressBacklog
	if compress {
		r.compressPending++
	}
	r.mu.Unlock()
	if r.cfg.Compress != "" && !compress {
		r.cfg.Logf("rotate: compression backlog full (%d files waiting); %s stays uncompressed", r.cfg.CompressBacklog, path)
	}
	post := len(r.cfg.PostRotate) > 0
	if !compress {
		if err := r.record(fin, seq, post); err != nil {
			return err
		}
	}
	if compress || post {
		r.work.add(job{fin: fin, seq: seq, path: path, compress: compress})
	}
	return nil
}

// deferOnFullDisk lets a manifest write that failed for lack of space wait
// (the capture's data matters more than its index): the entry stays pending,
// is written with the next one when there is room, and Close reports it if
// it never could be. r.mu is held.
func (r *Rotator) deferOnFullDisk(err error) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if !r.manifestBehind {
		r.cfg.Logf("%v; the manifest is brought up to date when there is room", err)
		r.manifestBehind = true
	}
	return nil
}

// record writes a final file's manifest entry and updates the ring; with
// stillBusy the ring keeps it until its post-rotate command has run.
func (r *Rotator) record(fin finished, seq int, stillBusy bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if r.man != nil {
		err = r.deferOnFullDisk(r.man.add(fin, r.cfg.Clock()))
	}
	r.settle(seq, fin.name, stillBusy)
	return err
}

// settle updates a ring entry with the file's final name and state and
// deletes what the ring no longer keeps. r.mu is held.
func (r *Rotator) settle(seq int, name string, busy bool) {
	if r.cfg.Single {
		return
	}
	for i := range r.ring {
		if r.ring[i].seq == seq {
			r.ring[i].name, r.ring[i].busy = name, busy
		}
	}
	r.prune()
}

// prune deletes the oldest files while the ring holds more than MaxFiles,
// stopping at a file that is still busy so that files go in order. A file
// that cannot be deleted stays in the ring and the manifest (it is still
// there), is tried again first at every prune, and counts as one of the
// MaxFiles: the next oldest goes in its place, so the ring stays bounded.
// r.mu is held.
func (r *Rotator) prune() {
	for i := 0; r.cfg.MaxFiles > 0 && len(r.ring) > r.cfg.MaxFiles && i < len(r.ring) && !r.ring[i].busy; {
		if !r.deleteAt(i, "ring") {
			i++
		}
	}
}

// freeSpace is directio's OnNoSpace in ring mode: it deletes the oldest
// finished file it can and reports whether it did.
func (r *Rotator) freeSpace(self int) bool {
	// A file older than the writer's own that is still being finished
	// (flushed, fsynced, renamed) cannot go yet but will be deletable in a
	// moment: wait for it rather than fail. Never wait for itself or newer.
	deadline := time.Now().Add(freeSpaceWait)
	for {
		r.mu.Lock()
		finishing := false
		for i := 0; i < len(r.ring); i++ {
			if !r.ring[i].busy {
				if r.deleteAt(i, "no space") {
					r.mu.Unlock()
					return true
				}
				continue // it stays at i; try the next one
			}
			finishing = finishing || r.ring[i].seq < self
		}
		r.mu.Unlock()
		if !finishing || time.Now().After(deadline) {
			r.cfg.Logf("rotate: disk full in %s and no finished file left to delete", r.dir)
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dropOldest is the manifest's noSpace in ring mode: a manifest write found
// the disk full, so the oldest finished file goes. Unlike deleteAt it leaves
// the manifest to its caller. r.mu is held.
func (r *Rotator) dropOldest() (string, bool) {
	for i := 0; i < len(r.ring); i++ {
		if r.ring[i].busy || !r.removeFile(i) {
			continue
		}
		name := r.ring[i].name
		r.ring = slices.Delete(r.ring, i, i+1)
		r.cfg.Logf("rotate: deleted %s (no space; keeping %d files)", filepath.Join(r.dir, name), r.cfg.MaxFiles)
		return name, true
	}
	r.cfg.Logf("rotate: disk full in %s and no finished file left to delete", r.dir)
	return "", false
}

// deleteAt deletes ring entry i's file, then takes it out of the ring and
// the manifest. When the file cannot be deleted it stays in both (it is
// still there) and deleteAt returns false. r.mu is held.
func (r *Rotator) deleteAt(i int, reason string) bool {
	if !r.removeFile(i) {
		return false
	}
	victim := r.ring[i]
	r.ring = slices.Delete(r.ring, i, i+1)
	r.cfg.Logf("rotate: deleted %s (%s; keeping %d files)", filepath.Join(r.dir, victim.name), reason, r.cfg.MaxFiles)
	if r.man != nil {
		if err := r.deferOnFullDisk(r.man.remove(victim.name, reason, r.cfg.Clock())); err != nil {
			r.addBgErr(err)
		}
	}
	return true
}

// removeFile removes ring entry i's file from the directory; a file that
// is already gone counts as removed. A failure is reported once per file.
// r.mu is held.
func (r *Rotator) removeFile(i int) bool {
	path := filepath.Join(r.dir, r.ring[i].name)
	err := os.Remove(path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return true
	}
	if !r.ring[i].removeFailed {
		r.ring[i].removeFailed = true
		r.cfg.Logf("rotate: delete oldest %s: %v; it stays in the ring and the manifest, and is tried again at the next rotation", path, err)
	}
	return false
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
