package rotate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
// file; a "deleted" record says a file left the directory (Reason "ring" or
// "no space"). Times are RFC 3339 with nanoseconds, UTC.
type Entry struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	SHA256     string  `json:"sha256,omitempty"`
	Bytes      *int64  `json:"bytes,omitempty"`
	Packets    *uint64 `json:"packets,omitempty"` // absent when unknown (repaired, cut by an error, no Hooks)
	First      string  `json:"first,omitempty"`
	Last       string  `json:"last,omitempty"`
	Lost       *uint64 `json:"lost,omitempty"`
	SeqFirst   *uint64 `json:"seq_first,omitempty"`
	SeqLast    *uint64 `json:"seq_last,omitempty"`
	Compressed *bool   `json:"compressed,omitempty"` // present on file records
	Repaired   *bool   `json:"repaired,omitempty"`   // present on file records
	Error      string  `json:"error,omitempty"`      // why a file ended early
	Reason     string  `json:"reason,omitempty"`     // why a file was deleted
	Time       string  `json:"time"`                 // when the record was written
}

// finished is what is known of a finished file when its record is written.
type finished struct {
	name       string
	sha256     string
	bytes      int64
	sum        *Summary // nil when unknown
	compressed bool
	repaired   bool
	err        string
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (f finished) entry(now time.Time) Entry {
	e := Entry{
		Type: RecordFile, Name: f.name, SHA256: f.sha256, Bytes: &f.bytes,
		Compressed: &f.compressed, Repaired: &f.repaired, Error: f.err, Time: timeString(now),
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
}

type sumLine struct{ hash, name string }

// loadManifest reads the directory's MANIFEST.sha256, if any, so that entries
// of earlier runs are kept when it is rewritten.
func loadManifest(dir string, mode os.FileMode) (*manifest, error) {
	m := &manifest{dir: dir, mode: mode}
	path := filepath.Join(dir, ManifestSums)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(hash) != 64 {
			return nil, fmt.Errorf("rotate: read %s: malformed line %q", path, sc.Text())
		}
		m.sums = append(m.sums, sumLine{hash, name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	return m, nil
}

// add records a finished file: a line in the index, then the sums file.
func (m *manifest) add(f finished, now time.Time) error {
	if err := m.appendIndex(f.entry(now)); err != nil {
		return err
	}
	m.sums = append(m.sums, sumLine{f.sha256, f.name})
	return m.writeSums()
}

// remove records that name left the directory.
func (m *manifest) remove(name, reason string, now time.Time) error {
	kept := m.sums[:0]
	for _, s := range m.sums {
		if s.name != name {
			kept = append(kept, s)
		}
	}
	m.sums = kept
	if err := m.writeSums(); err != nil {
		return err
	}
	return m.appendIndex(Entry{Type: RecordDeleted, Name: name, Reason: reason, Time: timeString(now)})
}

// appendIndex appends one JSON line to MANIFEST.jsonl and fsyncs it.
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
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
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
		return fmt.Errorf("rotate: write %s: %w", path, err)
	}
	return syncDir(m.dir)
}
