package pcapng

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/pcapng")

var goldenPath = filepath.Join("..", "testdata", "pcapng", "stream.pcapng")

// hostIsLittleEndian: the golden file is little-endian, the order of the
// hosts the project builds on; a big-endian host writes other bytes.
func hostIsLittleEndian() bool { return ne.Uint16([]byte{1, 0}) == 1 }

func TestGolden(t *testing.T) {
	got, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if !hostIsLittleEndian() {
			t.Fatal("-update on a big-endian host would write a big-endian golden file")
		}
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever the host, the golden file must parse to the golden values.
	s, err := parseStream(want)
	if err != nil {
		t.Fatalf("%s: %v", goldenPath, err)
	}
	checkAgainstModel(t, s, modelOf(goldenOps()), goldenOptions(), goldenStart, goldenEnd)
	if !hostIsLittleEndian() {
		t.Skip("big-endian host: the output differs from the little-endian golden file by design")
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("output (%d bytes) differs from %s (%d bytes) from offset %d; if the change is intended, run go test ./pcapng -update",
			len(got), goldenPath, len(want), i)
	}
}
