package rotate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

// logger collects Logf output.
type logger struct {
	mu    sync.Mutex
	lines []string
}

func (l *logger) Logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logger) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (l *logger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// testConfig is a Config for dir with small buffers, the fake clock and hooks.
func testConfig(dir string, clock *fakeClock, hooks *fakeHooks, log *logger) Config {
	cfg := Config{
		Path:       filepath.Join(dir, "fw.pcapng"),
		BufferSize: 16 << 10,
		Buffers:    2,
		Manifest:   true,
		Logf:       log.Logf,
	}
	if clock != nil {
		cfg.Clock = clock.Now
	}
	if hooks != nil {
		cfg.Hooks = hooks
	}
	return cfg
}

// captureFiles lists the entries of dir other than the manifest and lock,
// sorted by name.
func captureFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		switch e.Name() {
		case ManifestSums, ManifestIndex, lockName:
			continue
		case ManifestSums + ".tmp":
			// A kill while the sums were being rewritten leaves this;
			// the next Open removes it.
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// readIndex parses MANIFEST.jsonl.
func readIndex(t *testing.T, dir string) []Entry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ManifestIndex))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v in %q", ManifestIndex, err, sc.Text())
		}
		entries = append(entries, e)
	}
	return entries
}

// fileEntries returns the "file" records of the index by name.
func fileEntries(t *testing.T, dir string) map[string]Entry {
	t.Helper()
	m := map[string]Entry{}
	for _, e := range readIndex(t, dir) {
		if e.Type == RecordFile {
			m[e.Name] = e
		}
	}
	return m
}

// sha256sumCheck runs `sha256sum -c MANIFEST.sha256` in dir, as an
// investigator would, and returns the names it lists.
func sha256sumCheck(t *testing.T, dir string) []string {
	t.Helper()
	nstest.RequireTools(t, "sha256sum")
	cmd := exec.Command("sha256sum", "--strict", "-c", ManifestSums)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c %s in %s: %v\n%s", ManifestSums, dir, err, out)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if name, ok := strings.CutSuffix(line, ": OK"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkWhole checks that a file is a header, packets and a trailer whose count
// matches, and returns its packets.
func checkWhole(t *testing.T, path string, data []byte) []fakeRecord {
	t.Helper()
	recs, valid := parseRecords(data)
	if valid != len(data) {
		t.Fatalf("%s: %d bytes, valid prefix %d", path, len(data), valid)
	}
	if len(recs) < 2 || recs[0].kind != 'H' || recs[len(recs)-1].kind != 'T' {
		t.Fatalf("%s: does not start with a header and end with a trailer", path)
	}
	if string(recs[0].payload) != filepath.Base(path) {
		t.Errorf("%s: header names %q", path, recs[0].payload)
	}
	pkts := recs[1 : len(recs)-1]
	for _, p := range pkts {
		if p.kind != 'P' || !bytes.Equal(p.payload, packetPayload(p.seq)) {
			t.Fatalf("%s: bad packet record %c %d", path, p.kind, p.seq)
		}
	}
	if got := recs[len(recs)-1].seq; got != uint64(len(pkts)) {
		t.Errorf("%s: trailer counts %d packets, file has %d", path, got, len(pkts))
	}
	return pkts
}
