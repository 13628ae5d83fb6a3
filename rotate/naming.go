package rotate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stampLayout is the UTC start time in file names: sortable, no colons.
const stampLayout = "20060102T150405Z"

// Suffixes of files rotate makes besides the capture itself.
const (
	partSuffix = ".part"
	gzSuffix   = ".gz"
	zstSuffix  = ".zst"
)

// seqDigits is the width the sequence is padded to in new names. Names sort
// in sequence order, which is time order, as long as the sequence fits:
// 10^10 files last 317 years at a rotation a second. Names of five digits
// (minSeqDigits) are still recognised, and the sequence continues after
// theirs.
const seqDigits = 10

// minSeqDigits is the narrowest sequence a name of ours has (the width of
// names before seqDigits).
const minSeqDigits = 5

// fileName returns base_SEQ_STAMP.ext.
func fileName(base string, seq int, start time.Time, ext string) string {
	return fmt.Sprintf("%s_%0*d_%s%s", base, seqDigits, seq, start.UTC().Format(stampLayout), ext)
}

// splitPath splits Config.Path into directory, base name and extension.
func splitPath(path string) (dir, base, ext string) {
	dir, file := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ext = filepath.Ext(file)
	return filepath.Clean(dir), strings.TrimSuffix(file, ext), ext
}

// nameParts is a directory entry that follows the naming pattern of a base.
type nameParts struct {
	name  string // the whole entry name
	seq   int
	stem  string // base_SEQ_STAMP
	rest  string // what follows the stem: extension, compression, .part
	part  bool   // ends in .part
	compr string // ".gz" or ".zst" when compressed (or being compressed)
}

// parseName matches name against base_SEQ_STAMP*, where SEQ has at least
// minSeqDigits digits and STAMP is a UTC time in stampLayout.
func parseName(name, base string) (nameParts, bool) {
	rest, ok := strings.CutPrefix(name, base+"_")
	if !ok {
		return nameParts{}, false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits < minSeqDigits || digits > 18 || digits >= len(rest) || rest[digits] != '_' {
		return nameParts{}, false
	}
	seq, err := strconv.Atoi(rest[:digits])
	if err != nil {
		return nameParts{}, false
	}
	stamp := rest[digits+1:]
	if len(stamp) < len(stampLayout) {
		return nameParts{}, false
	}
	if _, err := time.Parse(stampLayout, stamp[:len(stampLayout)]); err != nil {
		return nameParts{}, false
	}
	p := nameParts{name: name, seq: seq, rest: stamp[len(stampLayout):]}
	p.stem = name[:len(name)-len(p.rest)]
	r := p.rest
	if s, ok := strings.CutSuffix(r, partSuffix); ok {
		p.part, r = true, s
	}
	for _, c := range []string{gzSuffix, zstSuffix} {
		if strings.HasSuffix(r, c) {
			p.compr = c
		}
	}
	return p, true
}

// scanDir lists the entries of dir that follow base's pattern with extension
// ext (optionally compressed, optionally .part), sorted by sequence.
func scanDir(dir, base, ext string) ([]nameParts, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate: read directory %s: %w", dir, err)
	}
	var found []nameParts
	for _, e := range entries {
		p, ok := parseName(e.Name(), base)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		r := strings.TrimSuffix(p.rest, partSuffix)
		r = strings.TrimSuffix(r, p.compr)
		if r != ext {
			continue
		}
		found = append(found, p)
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].seq != found[j].seq {
			return found[i].seq < found[j].seq
		}
		return found[i].name < found[j].name
	})
	return found, nil
}
