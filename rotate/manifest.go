package rotate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Manifest file names.
const (
	ManifestSums  = "MANIFEST.sha256"
	ManifestIndex = "MANIFEST.jsonl"
)

// Record types in MANIFEST.jsonl.
const (
	RecordFile    = "file"
	RecordDeleted = "deleted"
)

// Entry is one line of MANIFEST.jsonl. A "file" record describes a finished
// file; a "deleted" record says a file left the directory (Reason "ring",
// "no space", or "missing": listed in MANIFEST.sha256 but gone when a
// capture started, as when a run was killed between deleting a file and
// recording it). Times are RFC 3339 with nanoseconds, UTC.
type Entry struct {
	Type    string  `json:"type"`
	Name    string  `json:"name"`
	SHA256  string  `json:"sha256,omitempty"`
	Bytes   *int64  `json:"bytes,omitempty"`
	Packets *uint64 `json:"packets,omitempty"` // absent when unknown (repaired, cut by an error or reconciled without a Scanner, no Hooks)
	First   string  `json:"first,omitempty"`
	Last    string  `json:"last,omitempty"`
	Lost    *uint64 `json:"lost,omitempty"`
	// The sequence range, when the capture had sequence numbers.
	SeqFirst *uint64 `json:"seq_first,omitempty"`
	SeqLast  *uint64 `json:"seq_last,omitempty"`
	// CutBytes, on a file a write error ended early, is how many bytes
	// written to it after its last complete record did not reach the disk;
	// CutPackets how many packets they held, when known (Hooks with a
	// Scanner). Those packets are in no file.
	CutBytes   *int64  `json:"cut_bytes,omitempty"`
	CutPackets *uint64 `json:"cut_packets,omitempty"`
	Compressed *bool   `json:"compressed,omitempty"` // present on file records
	Repaired   *bool   `json:"repaired,omitempty"`   // present on file records
	// Reconciled marks the record of a file an earlier run finished but
	// did not record (killed first): a later Open hashed the file as it
	// found it and recorded it then. Its packet counts are known only
	// when the Hooks have a Scanner.
	Reconciled bool   `json:"reconciled,omitempty"`
	Error      string `json:"error,omitempty"`  // why a file ended early
	Reason     string `json:"reason,omitempty"` // why a file was deleted
	Time       string `json:"time"`             // when the record was written
}

// finished is what is known of a finished file when its record is written.
type finished struct {
	name       string
	sha256     string
	bytes      int64
	sum        *Summary // nil when unknown
	compressed bool
	repaired   bool
	reconciled bool
	err        string
	cutBytes   int64   // > 0: bytes a write error cut off
	cutPackets *uint64 // packets among them, when known
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (f finished) entry(now time.Time) Entry {
	e := Entry{
		Type: RecordFile, Name: f.name, SHA256: f.sha256, Bytes: &f.bytes,
		Compressed: &f.compressed, Repaired: &f.repaired, Reconciled: f.reconciled, Error: f.err, Time: timeString(now),
	}
	if f.cutBytes > 0 {
		e.CutBytes, e.CutPackets = &f.cutBytes, f.cutPackets
	}
	if s := f.sum; s != nil {
		e.Packets, e.Lost = &s.Packets, &s.Lost
		if s.Packets > 0 {
			e.First, e.Last = timeString(s.First), timeString(s.Last)
		}
		if s.HasSeq {
			e.SeqFirst, e.SeqLast = &s.SeqFirst, &s.SeqLast
		}
	}
	return e
}

// manifest keeps MANIFEST.sha256 and MANIFEST.jsonl of a directory. Its
// methods are called with the Rotator's mutex held.
type manifest struct {
	dir  string
	mode os.FileMode
	sums []sumLine // what MANIFEST.sha256 lists, in order

	// noSpace, set in ring mode, makes room when a manifest write fails
	// with ENOSPC: it deletes the oldest finished file and returns its name
	// (ok false when there is none). It must not call the manifest.
	noSpace func() (name string, ok bool)
	freed   []string // deleted by noSpace; their records are still to write

	// pending are index lines not written yet, in order: a full disk
	// (without a ring to make room) held them back. flush writes them first.
	pending   []Entry
	sumsStale bool  // the last rewrite of MANIFEST.sha256 failed
	tornIndex int64 // bytes of a torn last line loadManifest cut off the index

	// syncFile fsyncs the index after an append; nil means (*os.File).Sync.
	// Tests make it fail.
	syncFile func(*os.File) error
}

// retry runs op; while it fails for lack of space and noSpace deletes a
// file, the file leaves the sums and op runs again. op must leave the
// manifest files as they were when it fails.
func (m *manifest) retry(op func() error) error {
	for {
		err := op()
		if err == nil || m.noSpace == nil || !errors.Is(err, syscall.ENOSPC) {
			return err
		}
		name, ok := m.noSpace()
		if !ok {
			return err
		}
		m.drop(name)
		m.freed = append(m.freed, name)
	}
}

// drop removes name from the sums (in memory).
func (m *manifest) drop(name string) {
	m.sums = slices.DeleteFunc(m.sums, func(s sumLine) bool { return s.name == name })
}

// recordFreed writes the sums and the deletion records of the files noSpace
// deleted.
func (m *manifest) recordFreed(now time.Time) error {
	for len(m.freed) > 0 {
		if err := m.retry(m.writeSums); err != nil {
			return err
		}
		batch := m.freed
		m.freed = nil
		for _, name := range batch {
			e := Entry{Type: RecordDeleted, Name: name, Reason: "no space", Time: timeString(now)}
			if err := m.retry(func() error { return m.appendIndex(e) }); err != nil {
				return err
			}
		}
	}
	return nil
}

type sumLine struct{ hash, name string }

// loadManifest reads the directory's MANIFEST.sha256, if any, so that entries
// of earlier runs are kept when it is rewritten.
func loadManifest(dir string, mode os.FileMode) (*manifest, error) {
	m := &manifest{dir: dir, mode: mode}
	path := filepath.Join(dir, ManifestSums)
	// A rewrite killed before its rename leaves the temporary file; the
	// manifest itself is whole (rename is atomic), so the leftover goes.
	// The caller holds the directory lock: no rewrite is under way.
	os.Remove(path + ".tmp")
	sums, err := readSums(path)
	if err != nil {
		return nil, err
	}
	m.sums = sums
	if m.tornIndex, err = cutTornLine(filepath.Join(dir, ManifestIndex)); err != nil {
		return nil, err
	}
	return m, nil
}

// cutTornLine cuts a last line without its newline off the index: what a
// run killed (or a power cut) in the middle of an append leaves. Appending
// after it would glue the next record to it and spoil both. It returns the
// bytes cut.
func cutTornLine(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, err
	}
	// A record is far shorter than this; a longer tail is not ours to cut.
	n := min(fi.Size(), 64<<10)
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, fi.Size()-n); err != nil {
		return 0, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	if tail[n-1] == '\n' {
		return 0, nil
	}
	i := bytes.LastIndexByte(tail, '\n')
	if i < 0 && n < fi.Size() {
		return 0, nil
	}
	keep := fi.Size() - n + int64(i+1)
	if err := f.Truncate(keep); err != nil {
		return 0, fmt.Errorf("rotate: cut the torn last line of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("rotate: cut the torn last line of %s: %w", path, err)
	}
	return fi.Size() - keep, nil
}

// readSums reads a MANIFEST.sha256; a missing one lists nothing.
func readSums(path string) ([]sumLine, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	defer f.Close()
	var sums []sumLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(hash) != 64 {
			return nil, fmt.Errorf("rotate: read %s: malformed line %q", path, sc.Text())
		}
		sums = append(sums, sumLine{hash, name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	return sums, nil
}

// add records a finished file: a line in the index, then the sums file.
// What a full disk keeps from being written stays pending and goes out with
// the next call (or flush); the sums held in memory are complete either way.
func (m *manifest) add(f finished, now time.Time) error {
	m.pending = append(m.pending, f.entry(now))
	m.sums = append(m.sums, sumLine{f.sha256, f.name})
	return m.flush(now)
}

// remove records that name left the directory.
func (m *manifest) remove(name, reason string, now time.Time) error {
	m.drop(name)
	m.pending = append(m.pending, Entry{Type: RecordDeleted, Name: name, Reason: reason, Time: timeString(now)})
	return m.flush(now)
}

// flush writes the pending index lines in order, then the sums file.
func (m *manifest) flush(now time.Time) error {
	for len(m.pending) > 0 {
		e := m.pending[0]
		if err := m.retry(func() error { return m.appendIndex(e) }); err != nil {
			return err
		}
		m.pending = m.pending[1:]
	}
	if err := m.retry(m.writeSums); err != nil {
		return err
	}
	return m.recordFreed(now)
}

// behind reports whether some of the manifest is still to be written.
func (m *manifest) behind() bool { return len(m.pending) > 0 || m.sumsStale }

// appendIndex appends one JSON line to MANIFEST.jsonl and fsyncs it. When it
// fails the index is as it was, so that the caller may append the line
// again without recording it twice: a write that failed part way (disk
// full) or an fsync that failed after a whole write (ENOSPC or EIO from a
// filesystem that allocates late, as NFS and thin volumes do) is undone by
// cutting the file back. Should even that fail, the line stays and counts
// as written (nil): a retry would duplicate it, and the next append's fsync
// covers it.
func (m *manifest) appendIndex(e Entry) error {
	path := filepath.Join(m.dir, ManifestIndex)
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, m.mode)
	if err != nil {
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	defer f.Close() // after a successful fsync a failing close loses nothing
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	if _, err = f.Write(append(line, '\n')); err == nil {
		if m.syncFile != nil {
			err = m.syncFile(f)
		} else {
			err = f.Sync()
		}
	}
	if err != nil {
		if terr := f.Truncate(fi.Size()); terr != nil {
			if st, serr := f.Stat(); serr == nil && st.Size() == fi.Size()+int64(len(line))+1 {
				return nil // the whole line is there and stays
			}
		}
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	return nil
}

// writeSums replaces MANIFEST.sha256 atomically: a temporary file, fsync,
// rename over the old one, fsync of the directory. A reader sees the old or
// the new list, never a partial one.
func (m *manifest) writeSums() error {
	path := filepath.Join(m.dir, ManifestSums)
	tmp := path + ".tmp"
	var b strings.Builder
	for _, s := range m.sums {
		b.WriteString(s.hash + "  " + s.name + "\n")
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, m.mode)
	if err != nil {
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		m.sumsStale = true
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	m.sumsStale = false
	return syncDir(m.dir)
}
