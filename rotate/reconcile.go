package rotate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A run killed at the wrong moment leaves the directory and its manifest
// apart; the next Open brings them together again:
//
//   - between the rename of a finished file and its manifest record, or
//     while a finished file waited for compression: a finished file the
//     manifest does not list. It is hashed as found and recorded, marked
//     "reconciled" (with packet counts when the Hooks have a Scanner), or,
//     when MANIFEST.jsonl has its record and only MANIFEST.sha256 lacks it,
//     listed with the recorded hash. It is neither compressed nor handed to
//     the post-rotate command: Logf names it for whoever must.
//   - during a compression: NAME with NAME.gz.part or NAME.zst.part, or
//     NAME with a complete NAME.gz or NAME.zst (killed before NAME was
//     removed), neither recorded. The uncompressed original is kept and
//     the compressed copy removed (resolveCompression, in Open).
//   - between deleting a file (ring) and recording it: a file
//     MANIFEST.sha256 lists that is gone. It leaves the list, with a
//     "deleted" record of reason "missing", so that sha256sum -c passes
//     again.
//
// All but resolveCompression run on the worker goroutine, so that hashing
// does not delay the capture's start.

// resolveCompression removes the compressed copies a run killed while
// compressing left beside their uncompressed original (see above) and
// returns found without them. listed are the names MANIFEST.sha256 lists; a
// listed copy is left alone.
func (r *Rotator) resolveCompression(found []nameParts, listed map[string]bool) []nameParts {
	plain := map[string]bool{}
	for _, p := range found {
		if !p.part && p.compr == "" {
			plain[p.name] = true
		}
	}
	kept := found[:0]
	for _, p := range found {
		src := strings.TrimSuffix(strings.TrimSuffix(p.name, partSuffix), p.compr)
		if p.compr == "" || !plain[src] || listed[p.name] {
			kept = append(kept, p)
			continue
		}
		path := filepath.Join(r.dir, p.name)
		if err := os.Remove(path); err != nil {
			r.cfg.Logf("rotate: remove %s, left by an interrupted compression of %s: %v", path, src, err)
			kept = append(kept, p)
			continue
		}
		if p.part {
			r.cfg.Logf("rotate: removed %s, the output of a compression an earlier run did not finish; %s is kept uncompressed", path, src)
		} else {
			r.cfg.Logf("rotate: removed %s: an earlier run was killed after compressing %s but before removing it; %s is kept uncompressed", path, src, src)
		}
	}
	if len(kept) < len(found) {
		if err := syncDir(r.dir); err != nil {
			r.cfg.Logf("%v", err)
		}
	}
	return kept
}

// reconcile is the worker's first job when the directory has a manifest:
// it drops listed files that are gone and records the finished files of
// this base that loadDir found unrecorded (busy in the ring until then).
func (r *Rotator) reconcile(ctx context.Context, unrecorded []nameParts) {
	r.dropMissing()
	if len(unrecorded) == 0 {
		return
	}
	names := map[string]bool{}
	for _, p := range unrecorded {
		names[p.name] = true
	}
	indexed, err := indexedFiles(r.dir, names)
	if err != nil {
		r.cfg.Logf("%v", err)
	}
	for _, p := range unrecorded {
		r.reconcileFile(ctx, p, indexed)
		r.mu.Lock()
		r.settle(p.seq, p.name, false)
		r.mu.Unlock()
	}
}

// reconcileFile records one finished file that MANIFEST.sha256 lacks.
func (r *Rotator) reconcileFile(ctx context.Context, p nameParts, indexed map[string]Entry) {
	path := filepath.Join(r.dir, p.name)
	if ctx.Err() != nil {
		r.cfg.Logf("rotate: stopped before recording %s in the manifest; the next start records it", path)
		return
	}
	sum, n, err := hashFileContext(ctx, path)
	if err != nil {
		r.cfg.Logf("rotate: %s is not in the manifest and could not be recorded: %v", path, err)
		return
	}
	if e, ok := indexed[p.name]; ok && len(e.SHA256) == 64 {
		// Killed between the index line and the rewrite of the sums.
		if e.SHA256 != sum {
			r.cfg.Logf("rotate: %s has sha256 %s, but %s recorded %s: it changed since it was written", path, sum, ManifestIndex, e.SHA256)
		}
		r.mu.Lock()
		r.man.sums = append(r.man.sums, sumLine{e.SHA256, p.name})
		err := r.deferOnFullDisk(r.man.flush(r.cfg.Clock()))
		r.mu.Unlock()
		if err != nil {
			r.setBgErr(err)
			return
		}
		r.cfg.Logf("rotate: %s is recorded in %s but was missing from %s; listed it now", path, ManifestIndex, ManifestSums)
		return
	}
	fin := finished{name: p.name, sha256: sum, bytes: n, compressed: p.compr != "", reconciled: true}
	if sc, ok := r.cfg.Hooks.(Scanner); ok {
		if s, err := scanFile(ctx, sc, path, p.compr); err != nil {
			r.cfg.Logf("rotate: count the packets in %s: %v", path, err)
		} else {
			fin.sum = &s
		}
	}
	if err := r.record(fin, p.seq, true); err != nil {
		r.setBgErr(err)
		return
	}
	var skipped string
	switch {
	case r.cfg.Compress != "" && p.compr == "" && len(r.cfg.PostRotate) > 0:
		skipped = "; it is not compressed or handed to the post-rotate command"
	case r.cfg.Compress != "" && p.compr == "":
		skipped = "; it is not compressed"
	case len(r.cfg.PostRotate) > 0:
		skipped = "; it is not handed to the post-rotate command"
	}
	r.cfg.Logf("rotate: %s was finished by an earlier run that was killed before recording it in the manifest; recorded it now, hashed as found%s", path, skipped)
}

// dropMissing takes the files MANIFEST.sha256 lists but the directory no
// longer holds out of the list, each with a "deleted" record.
func (r *Rotator) dropMissing() {
	r.mu.Lock()
	names := make([]string, len(r.man.sums))
	for i, s := range r.man.sums {
		names[i] = s.name
	}
	r.mu.Unlock()
	var missing []string
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(r.dir, name)); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range missing {
		// The ring may have deleted (and recorded) it meanwhile.
		if !slices.ContainsFunc(r.man.sums, func(s sumLine) bool { return s.name == name }) {
			continue
		}
		r.cfg.Logf("rotate: %s is listed in %s but is not in the directory; recorded as missing", filepath.Join(r.dir, name), ManifestSums)
		if err := r.deferOnFullDisk(r.man.remove(name, "missing", r.cfg.Clock())); err != nil {
			r.addBgErr(err)
			return
		}
	}
}

// indexedFiles returns the "file" records MANIFEST.jsonl holds for names
// and no later "deleted" record cancels.
func indexedFiles(dir string, names map[string]bool) (map[string]Entry, error) {
	found := map[string]Entry{}
	path := filepath.Join(dir, ManifestIndex)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return found, nil
	}
	if err != nil {
		return found, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		mentions := false
		for name := range names {
			if bytes.Contains(line, []byte(`"`+name+`"`)) {
				mentions = true
				break
			}
		}
		var e Entry
		if !mentions || json.Unmarshal(line, &e) != nil || !names[e.Name] {
			continue // a torn last line (killed while appending) is no record
		}
		switch e.Type {
		case RecordFile:
			found[e.Name] = e
		case RecordDeleted:
			delete(found, e.Name)
		}
	}
	if err := sc.Err(); err != nil {
		return found, fmt.Errorf("rotate: read %s: %w", path, err)
	}
	return found, nil
}

// hashFileContext is hashFile that stops when ctx is cancelled.
func hashFileContext(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("rotate: hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", 0, fmt.Errorf("rotate: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// scanFile runs sc over the file at path, decompressed when compr is
// gzSuffix or zstSuffix.
func scanFile(ctx context.Context, sc Scanner, path, compr string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("rotate: scan %s: %w", path, err)
	}
	defer f.Close()
	var rd io.Reader = bufio.NewReaderSize(&ctxReader{ctx: ctx, r: f}, 256<<10)
	if compr != "" {
		dec, err := newDecoder(compr, rd)
		if err != nil {
			return Summary{}, fmt.Errorf("rotate: scan %s: %w", path, err)
		}
		defer dec.Close()
		rd = dec
	}
	s, err := sc.Scan(rd)
	if err != nil {
		return Summary{}, fmt.Errorf("rotate: scan %s: %w", path, err)
	}
	return s, nil
}
