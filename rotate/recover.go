package rotate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Recovered describes a leftover .part file found by Recover.
type Recovered struct {
	Path     string // the leftover file
	Final    string // the name it has (or would have) once made whole
	Size     int64  // its size as found
	Valid    int64  // length of its valid prefix; -1 when not checked
	Repaired bool   // it was cut to Valid, renamed to Final and recorded
	Removed  bool   // removed: an interrupted compression output, or a file without one complete record
}

// Recover reports the .part files that runs of base left in dir when they
// were killed. With repair it makes each whole: the file is cut to the valid
// prefix that validPrefix reports (the capture passes pcapng.ValidPrefix),
// fsynced, renamed to its final name and, when the directory has a manifest,
// recorded with "repaired": true. Output of an interrupted compression
// (NAME.gz.part, NAME.zst.part, or a complete NAME.gz or NAME.zst that
// MANIFEST.sha256 does not list: the run was killed before removing NAME)
// is reported too, and with repair removed when NAME is still there. The
// next capture in the directory records finished files the manifest lacks
// (see Open).
// Recover takes the directory's lock, so it fails while a capture runs there.
func Recover(dir, base string, validPrefix func(r io.ReaderAt, size int64) (int64, error), repair bool) ([]Recovered, error) {
	lock, err := lockDir(dir, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate: recover %s: %w", dir, err)
	}
	var man *manifest
	switch {
	case !exists(filepath.Join(dir, ManifestSums)) && !exists(filepath.Join(dir, ManifestIndex)):
	case repair:
		if man, err = loadManifest(dir, 0o600); err != nil {
			return nil, err
		}
	default:
		// Only reading: nothing changes, not even a leftover temporary
		// file; a list that cannot be read only makes the report longer.
		man = &manifest{dir: dir, mode: 0o600}
		man.sums, _ = readSums(filepath.Join(dir, ManifestSums))
	}
	listed := func(name string) bool {
		return man != nil && slices.ContainsFunc(man.sums, func(s sumLine) bool { return s.name == name })
	}
	var found []Recovered
	var errs []error
	torn := 0 // .part capture files, which need validPrefix
	for _, e := range entries {
		p, ok := parseName(e.Name(), base)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if !p.part {
			// A complete compressed copy beside its original, neither
			// recorded: killed between compressing and removing NAME.
			if p.compr == "" || listed(p.name) {
				continue
			}
			path := filepath.Join(dir, p.name)
			source := strings.TrimSuffix(path, p.compr)
			if !exists(source) || listed(filepath.Base(source)) {
				continue
			}
			rec := Recovered{Path: path, Final: path, Valid: -1}
			if fi, err := e.Info(); err == nil {
				rec.Size = fi.Size()
			}
			if repair {
				if err := os.Remove(path); err != nil {
					errs = append(errs, fmt.Errorf("rotate: recover %s: %w", path, err))
				} else {
					rec.Removed = true
				}
			}
			found = append(found, rec)
			continue
		}
		path := filepath.Join(dir, p.name)
		final := strings.TrimSuffix(path, partSuffix)
		rec := Recovered{Path: path, Final: final, Valid: -1}
		if fi, err := e.Info(); err == nil {
			rec.Size = fi.Size()
		}
		if p.compr != "" {
			source := strings.TrimSuffix(final, p.compr)
			if repair && exists(source) {
				if err := os.Remove(path); err != nil {
					errs = append(errs, fmt.Errorf("rotate: recover %s: %w", path, err))
				} else {
					rec.Removed = true
				}
			}
			found = append(found, rec)
			continue
		}
		torn++
		if validPrefix != nil {
			if rec.Valid, err = checkPrefix(path, rec.Size, validPrefix); err != nil {
				errs = append(errs, err)
				found = append(found, rec)
				continue
			}
		}
		if repair {
			if err := repairPart(&rec, man); err != nil {
				errs = append(errs, err)
			}
		}
		found = append(found, rec)
	}
	if repair && validPrefix == nil && torn > 0 {
		errs = append(errs, fmt.Errorf("rotate: recover %s: cannot repair without a validPrefix function", dir))
	}
	return found, errors.Join(errs...)
}

func checkPrefix(path string, size int64, validPrefix func(io.ReaderAt, int64) (int64, error)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, fmt.Errorf("rotate: recover %s: %w", path, err)
	}
	defer f.Close()
	n, err := validPrefix(f, size)
	if err != nil {
		return -1, fmt.Errorf("rotate: recover %s: %w", path, err)
	}
	if n < 0 || n > size {
		return -1, fmt.Errorf("rotate: recover %s: valid prefix %d outside the file's %d bytes", path, n, size)
	}
	return n, nil
}

// repairPart cuts rec's file to its valid prefix, fsyncs it, renames it to
// its final name and records it in man (if not nil).
func repairPart(rec *Recovered, man *manifest) error {
	if rec.Valid < 0 {
		return nil
	}
	if rec.Valid == 0 {
		// Killed before its first block was flushed: nothing to keep, and
		// an empty file would not open as a capture.
		if err := os.Remove(rec.Path); err != nil {
			return fmt.Errorf("rotate: repair %s: %w", rec.Path, err)
		}
		rec.Removed = true
		return nil
	}
	f, err := os.OpenFile(rec.Path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("rotate: repair %s: %w", rec.Path, err)
	}
	err = f.Truncate(rec.Valid)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rotate: repair %s: %w", rec.Path, err)
	}
	if err := renameNoReplace(rec.Path, rec.Final); err != nil {
		return err
	}
	dir := filepath.Dir(rec.Final)
	if err := syncDir(dir); err != nil {
		return err
	}
	rec.Repaired = true
	if man == nil {
		return nil
	}
	sum, n, err := hashFile(rec.Final)
	if err != nil {
		return err
	}
	return man.add(finished{name: filepath.Base(rec.Final), sha256: sum, bytes: n, repaired: true}, time.Now())
}
