//go:build linux

package directio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitFree waits until n buffers of w are free (the writer goroutine has
// written the others out).
func waitFree(t *testing.T, w *Writer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.free.ready) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d buffers free after 10 s", len(w.free.ready), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// When the disk keeps up, Write reuses the buffer written out last (the free
// list is LIFO): the others are never touched, so never faulted in. Here
// each buffer is written out before the next is needed, so one does.
func TestFreeListReusesTheLatestBuffer(t *testing.T) {
	const size = 64 << 10
	w, err := Create(filepath.Join(t.TempDir(), "f"), 0o644, &Options{BufferSize: size, Buffers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	block := bytes.Repeat([]byte{'x'}, size)
	used := map[*buffer]bool{}
	for range 20 {
		if _, err := w.Write(block[:1]); err != nil { // takes a free buffer
			t.Fatal(err)
		}
		used[w.cur] = true
		if _, err := w.Write(block[1:]); err != nil { // fills it and hands it off
			t.Fatal(err)
		}
		waitFree(t, w, 4)
	}
	if len(used) != 1 {
		t.Errorf("20 buffers' worth written through %d distinct buffers, want 1", len(used))
	}
}

// A Pool hands the buffers of a closed Writer to the next one, and only
// to Writers of its buffer size.
func TestPoolPassesBuffersOn(t *testing.T) {
	const size = 64 << 10
	dir := t.TempDir()
	pool := NewPool(size, 4)
	defer pool.Close()
	mems := func(w *Writer) map[*byte]bool {
		m := map[*byte]bool{}
		for _, b := range w.all {
			m[&b.mem[0]] = true
		}
		return m
	}
	first, err := Create(filepath.Join(dir, "1"), 0o644, &Options{BufferSize: size, Buffers: 4, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	firstMem := mems(first)
	first.Write([]byte("one"))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if len(pool.idle) != 4 {
		t.Fatalf("pool holds %d buffers after Close, want 4", len(pool.idle))
	}
	second, err := Create(filepath.Join(dir, "2"), 0o644, &Options{BufferSize: size, Buffers: 4, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	for m := range mems(second) {
		if !firstMem[m] {
			t.Errorf("the second Writer has a buffer the first did not pass on")
		}
	}
	other, err := Create(filepath.Join(dir, "3"), 0o644, &Options{BufferSize: 2 * size, Buffers: 2, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if other.pool != nil {
		t.Errorf("a Writer of another buffer size uses the pool")
	}
	// A reused buffer starts empty: the second file holds only its own data.
	second.Write([]byte("two"))
	for _, w := range []*Writer{second, other} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"1": "one", "2": "two", "3": ""} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("file %s holds %q (%v), want %q", name, got, err, want)
		}
	}
	pool.Close()
	if len(pool.idle) != 0 {
		t.Errorf("closed pool keeps %d buffers", len(pool.idle))
	}
	// Buffers coming back after Close are released, not kept.
	late, err := Create(filepath.Join(dir, "4"), 0o644, &Options{BufferSize: size, Buffers: 2, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	late.Close()
	if len(pool.idle) != 0 || late.all[0].mapping != nil && late.all[0].mem != nil {
		t.Errorf("buffers returned to a closed pool were kept (%d idle)", len(pool.idle))
	}
}
