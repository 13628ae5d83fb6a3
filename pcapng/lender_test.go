package pcapng

import (
	"bytes"
	"testing"
)

// lender lends the free part of a fixed buffer, as internal/directio does,
// and counts the Writes that came back in place.
type lender struct {
	mem      []byte
	n        int
	inPlace  int
	copied   int
	maxChunk int // lend at most this much, to force blocks built aside
}

func (l *lender) AvailableBuffer() []byte {
	end := min(len(l.mem), l.n+l.maxChunk)
	return l.mem[l.n:l.n:end]
}

func (l *lender) Write(p []byte) (int, error) {
	if len(p) > 0 && l.n < len(l.mem) && &p[0] == &l.mem[l.n] {
		l.inPlace++
	} else {
		copy(l.mem[l.n:], p)
		l.copied++
	}
	l.n += len(p)
	return len(p), nil
}

// A destination that lends its buffer gets the same bytes, built in place;
// blocks that do not fit the lent space are built aside and still in order.
func TestWriterBuildsInLentBuffer(t *testing.T) {
	want, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1 << 20, 64} {
		l := &lender{mem: make([]byte, 1<<20), maxChunk: chunk}
		w := NewWriter(l, goldenOptions())
		if err := apply(w, goldenOps()); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := l.mem[:l.n]; !bytes.Equal(got, want) {
			t.Fatalf("lent %d: %d bytes differ from the buffered writer's %d", chunk, len(got), len(want))
		}
		if l.inPlace == 0 {
			t.Errorf("lent %d: no block was built in place", chunk)
		}
		if chunk < 1<<20 && l.copied < 2 {
			t.Errorf("lent %d: blocks larger than the lent space were not written aside", chunk)
		}
		if w.Written() != int64(len(want)) {
			t.Errorf("Written() = %d, want %d", w.Written(), len(want))
		}
	}
}
