package rotate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A fake record format stands in for pcapng: each record is
//
//	length uint32 | kind byte | seq uint64 | unix nanoseconds int64 | payload | length uint32
//
// with the length repeated at the end, so a torn record is recognised.
// Kinds: 'H' header (payload: file name), 'P' packet, 'T' trailer (seq holds
// the packet count).

const recordOverhead = 4 + 1 + 8 + 8 + 4

type fakeRecord struct {
	kind    byte
	seq     uint64
	t       time.Time
	payload []byte
}

func appendRecord(dst []byte, kind byte, seq uint64, t time.Time, payload []byte) []byte {
	n := uint32(recordOverhead + len(payload))
	dst = binary.BigEndian.AppendUint32(dst, n)
	dst = append(dst, kind)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.UnixNano()))
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, n)
}

// packetPayload is the deterministic payload of packet seq.
func packetPayload(seq uint64) []byte {
	p := make([]byte, 50+seq*37%400)
	for i := range p {
		p[i] = byte(seq + uint64(i))
	}
	return p
}

// parseRecords parses data and returns the complete records and the length
// of the valid prefix.
func parseRecords(data []byte) ([]fakeRecord, int) {
	var recs []fakeRecord
	off := 0
	for len(data)-off >= recordOverhead {
		n := int(binary.BigEndian.Uint32(data[off:]))
		if n < recordOverhead || len(data)-off < n || binary.BigEndian.Uint32(data[off+n-4:]) != uint32(n) {
			break
		}
		r := data[off : off+n]
		recs = append(recs, fakeRecord{
			kind:    r[4],
			seq:     binary.BigEndian.Uint64(r[5:]),
			t:       time.Unix(0, int64(binary.BigEndian.Uint64(r[13:]))),
			payload: r[21 : n-4],
		})
		off += n
	}
	return recs, off
}

// validPrefix is the fake format's ValidPrefix, as pcapng.ValidPrefix is
// for pcapng.
func validPrefix(r io.ReaderAt, size int64) (int64, error) {
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	_, n := parseRecords(data)
	return int64(n), nil
}

// fakeHooks writes the header and trailer records and keeps a copy of every
// byte each file should hold, so tests can compare exactly.
type fakeHooks struct {
	mu      sync.Mutex
	files   [][]byte // expected content per file, in order
	names   []string
	sum     Summary
	failAt  int // make Open fail for the file with this index (1-based); 0: never
	opens   int
	scratch []byte
}

func (h *fakeHooks) Open(w io.Writer, f FileInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opens++
	if h.failAt == h.opens {
		return fmt.Errorf("hook refuses file %d", h.opens)
	}
	rec := appendRecord(nil, 'H', uint64(f.Seq), f.Start, []byte(f.Name))
	h.files = append(h.files, rec)
	h.names = append(h.names, f.Name)
	h.sum = Summary{HasSeq: true}
	_, err := w.Write(rec)
	return err
}

func (h *fakeHooks) Close(w io.Writer) (Summary, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := appendRecord(nil, 'T', h.sum.Packets, time.Time{}, nil)
	h.files[len(h.files)-1] = append(h.files[len(h.files)-1], rec...)
	if _, err := w.Write(rec); err != nil {
		return h.sum, err // what was written, as Hooks.Close asks
	}
	return h.sum, nil
}

// scanHooks are fakeHooks that can read a file back (a Scanner).
type scanHooks struct {
	*fakeHooks
	scans atomic.Int64
}

// Scan counts the packet records of the valid prefix of r.
func (h *scanHooks) Scan(r io.Reader) (Summary, error) {
	h.scans.Add(1)
	data, err := io.ReadAll(r)
	if err != nil {
		return Summary{}, err
	}
	return summarize(data), nil
}

// summarize is the Summary of the packets in the valid prefix of data.
func summarize(data []byte) Summary {
	recs, _ := parseRecords(data)
	s := Summary{HasSeq: true}
	for _, p := range recs {
		if p.kind != 'P' {
			continue
		}
		if s.Packets == 0 {
			s.First, s.SeqFirst = p.t, p.seq
		}
		s.Packets++
		s.Last, s.SeqLast = p.t, p.seq
	}
	return s
}

// writePacket writes packet seq with time t through r, as a capture would,
// and counts it for the trailer.
func (h *fakeHooks) writePacket(r *Rotator, seq uint64, t time.Time) error {
	h.mu.Lock()
	h.scratch = appendRecord(h.scratch[:0], 'P', seq, t, packetPayload(seq))
	rec := h.scratch
	h.mu.Unlock()
	if _, err := r.Write(rec); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[len(h.files)-1] = append(h.files[len(h.files)-1], rec...)
	if h.sum.Packets == 0 {
		h.sum.First, h.sum.SeqFirst = t, seq
	}
	h.sum.Packets++
	h.sum.Last, h.sum.SeqLast = t, seq
	return nil
}

// fakeClock is an injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(tb testing.TB, s string) *fakeClock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return &fakeClock{t: t}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// readFile is os.ReadFile that fails the test.
func mustRead(t interface{ Fatal(...any) }, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
