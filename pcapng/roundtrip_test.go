package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// model is what a stream of ops should contain, worked out from the ops
// alone: the interfaces, the packets, and per interface the packets written
// and the drops counted.
type model struct {
	interfaces []Interface
	packets    []Packet
	delivered  []uint64
	drops      []uint64
}

func modelOf(ops []op) model {
	var m model
	for _, o := range ops {
		switch {
		case o.ifc != nil:
			m.interfaces = append(m.interfaces, *o.ifc)
			m.delivered = append(m.delivered, 0)
			m.drops = append(m.drops, 0)
		case o.pkt != nil:
			m.packets = append(m.packets, *o.pkt)
			m.delivered[o.pkt.Interface]++
			m.drops[o.pkt.Interface] = satAdd(m.drops[o.pkt.Interface], o.pkt.DropCount)
		default:
			if o.dropsIface >= 0 && o.dropsIface < len(m.drops) {
				m.drops[o.dropsIface] = satAdd(m.drops[o.dropsIface], o.drops)
			}
		}
	}
	return m
}

// satAdd is a+b, stuck at the largest uint64 instead of wrapping, as the
// Writer documents for its counters.
func satAdd(a, b uint64) uint64 {
	if a > ^uint64(0)-b {
		return ^uint64(0)
	}
	return a + b
}

func wire(p *Packet) []byte { return append(slices.Clip(p.LinkHeader), p.Data...) }

// captured is what a packet's block should hold: LinkHeader and Data, cut at
// the interface's snaplen and at MaxCaptureLength.
func captured(p *Packet, snapLen uint32) []byte {
	b := wire(p)
	if snapLen != 0 && uint64(len(b)) > uint64(snapLen) {
		b = b[:snapLen]
	}
	return b[:min(len(b), MaxCaptureLength)]
}

func origLen(p *Packet) int {
	return int(min(uint64(max(p.OriginalLength, len(p.LinkHeader)+len(p.Data))), 1<<32-1))
}

func TestRoundTripNgReader(t *testing.T) {
	b, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	m := modelOf(goldenOps())
	stats := map[int]pcapgo.NgInterfaceStatistics{}
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{
		WantMixedLinkType:  true,
		StatisticsCallback: func(id int, s pcapgo.NgInterfaceStatistics) { stats[id] = s },
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := goldenOptions()
	if got := r.SectionInfo(); got.Application != opts.Application || got.OS != opts.OS ||
		got.Hardware != opts.Hardware || got.Comment != opts.Comment {
		t.Errorf("section = %+v, want application %q, OS %q, hardware %q, comment %q",
			got, opts.Application, opts.OS, opts.Hardware, opts.Comment)
	}
	for i := range m.packets {
		want := &m.packets[i]
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ci.InterfaceIndex != want.Interface {
			t.Errorf("packet %d: interface %d, want %d", i, ci.InterfaceIndex, want.Interface)
		}
		if got := ci.Timestamp.UnixNano(); got != want.Timestamp {
			t.Errorf("packet %d: timestamp %d, want %d", i, got, want.Timestamp)
		}
		capt := captured(want, m.interfaces[want.Interface].SnapLen)
		if ci.CaptureLength != len(capt) || ci.Length != origLen(want) {
			t.Errorf("packet %d: lengths %d/%d, want %d/%d", i, ci.CaptureLength, ci.Length, len(capt), origLen(want))
		}
		if !bytes.Equal(data, capt) {
			t.Errorf("packet %d: data\n% x\nwant\n% x", i, data, capt)
		}
		// gopacket's layers.LinkType has 8 bits: 276 arrives as 20. The
		// test block reader checks all 16 bits.
		if lt := ci.AncillaryData[0].(layers.LinkType); lt != layers.LinkType(m.interfaces[want.Interface].LinkType) {
			t.Errorf("packet %d: link type %d, want %d (mod 256)", i, lt, m.interfaces[want.Interface].LinkType)
		}
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Fatalf("after the last packet: %v, want EOF", err)
	}
	if r.NInterfaces() != len(m.interfaces) {
		t.Fatalf("%d interfaces, want %d", r.NInterfaces(), len(m.interfaces))
	}
	for i, want := range m.interfaces {
		got, err := r.Interface(i)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != want.Name || got.Description != want.Description || got.OS != want.OS ||
			got.Filter != want.Filter || got.Comment != want.Comment || got.SnapLength != want.SnapLen ||
			got.LinkType != layers.LinkType(want.LinkType) {
			t.Errorf("interface %d = %+v, want %+v", i, got, want)
		}
		if got.TimestampResolution != 9 || got.TimestampOffset != 0 {
			t.Errorf("interface %d: tsresol %d, tsoffset %d; want 9 (ns), 0", i, got.TimestampResolution, got.TimestampOffset)
		}
		st, ok := stats[i]
		if !ok {
			t.Errorf("interface %d: no statistics", i)
			continue
		}
		if st.PacketsReceived != satAdd(m.delivered[i], m.drops[i]) || st.PacketsDropped != m.drops[i] {
			t.Errorf("interface %d: received %d, dropped %d; want %d, %d",
				i, st.PacketsReceived, st.PacketsDropped, satAdd(m.delivered[i], m.drops[i]), m.drops[i])
		}
		if !st.StartTime.Equal(goldenStart) || !st.EndTime.Equal(goldenEnd) || !st.LastUpdate.Equal(goldenEnd) {
			t.Errorf("interface %d: statistics from %v to %v (at %v), want %v to %v",
				i, st.StartTime, st.EndTime, st.LastUpdate, goldenStart, goldenEnd)
		}
	}
	if len(stats) != len(m.interfaces) {
		t.Errorf("statistics for %d interfaces, want %d", len(stats), len(m.interfaces))
	}
}

// checkAgainstModel compares a parsed stream with what its ops should give,
// option by option.
func checkAgainstModel(t *testing.T, s *parsedStream, m model, opts *WriterOptions, start, end time.Time) {
	t.Helper()
	if s.section.major != 1 || s.section.minor != 0 || s.section.sectionLength != ^uint64(0) {
		t.Errorf("section header %+v: want version 1.0, length -1", s.section)
	}
	if s.section.application != opts.Application || s.section.comment != opts.Comment ||
		(opts.OS != "" && s.section.os != opts.OS) || (opts.Hardware != "" && s.section.hardware != opts.Hardware) {
		t.Errorf("section %+v, want %+v", s.section, opts)
	}
	if len(s.interfaces) != len(m.interfaces) {
		t.Fatalf("%d interfaces, want %d", len(s.interfaces), len(m.interfaces))
	}
	for i, want := range m.interfaces {
		got := s.interfaces[i]
		if got.linkType != want.LinkType || got.snapLen != want.SnapLen || got.name != want.Name ||
			got.description != want.Description || got.os != want.OS || got.filter != want.Filter ||
			got.hardware != want.Hardware || got.comment != want.Comment || got.filterType != 0 {
			t.Errorf("interface %d = %+v, want %+v", i, got, want)
		}
		if !bytes.Equal(got.tsresol, []byte{9}) {
			t.Errorf("interface %d: if_tsresol % x, want 09", i, got.tsresol)
		}
	}
	if len(s.packets) != len(m.packets) {
		t.Fatalf("%d packets, want %d", len(s.packets), len(m.packets))
	}
	for i := range m.packets {
		want, got := &m.packets[i], s.packets[i]
		capt := captured(want, m.interfaces[want.Interface].SnapLen)
		if int(got.iface) != want.Interface || int64(got.timestamp) != want.Timestamp ||
			int(got.capLen) != len(capt) || int(got.origLen) != origLen(want) || !bytes.Equal(got.data, capt) {
			t.Errorf("packet %d = iface %d ts %d len %d/%d data % x\nwant iface %d ts %d len %d/%d data % x", i,
				got.iface, got.timestamp, got.capLen, got.origLen, got.data,
				want.Interface, want.Timestamp, len(capt), origLen(want), capt)
		}
		if got.hasFlags != (want.Flags != 0) || got.flags != want.Flags {
			t.Errorf("packet %d: flags %v %#x, want %#x", i, got.hasFlags, got.flags, want.Flags)
		}
		if got.hasDropCount != (want.DropCount != 0 || want.HasDropCount) || got.dropCount != want.DropCount {
			t.Errorf("packet %d: dropcount %v %d, want %v %d", i, got.hasDropCount, got.dropCount, want.HasDropCount, want.DropCount)
		}
		if got.hasPacketID != want.HasPacketID || got.packetID != want.PacketID && want.HasPacketID {
			t.Errorf("packet %d: packetid %v %d, want %v %d", i, got.hasPacketID, got.packetID, want.HasPacketID, want.PacketID)
		}
		if !bytes.Equal(got.comment, want.Comment) || (got.comment == nil) != (len(want.Comment) == 0) {
			t.Errorf("packet %d: comment %q, want %q", i, got.comment, want.Comment)
		}
	}
	if len(s.stats) != len(m.interfaces) {
		t.Fatalf("%d ISBs, want one per interface (%d)", len(s.stats), len(m.interfaces))
	}
	for i, st := range s.stats {
		want := statsInfo{
			iface:     uint32(i),
			timestamp: uint64(end.UnixNano()),
			startTime: uint64(start.UnixNano()),
			endTime:   uint64(end.UnixNano()),
			ifRecv:    satAdd(m.delivered[i], m.drops[i]),
			ifDrop:    m.drops[i],
			usrDeliv:  m.delivered[i],
		}
		st.optionCodes = nil
		if st.iface != want.iface || st.timestamp != want.timestamp || st.startTime != want.startTime ||
			st.endTime != want.endTime || st.ifRecv != want.ifRecv || st.ifDrop != want.ifDrop || st.usrDeliv != want.usrDeliv {
			t.Errorf("ISB %d = %+v, want %+v", i, st, want)
		}
	}
	// The ISBs come last, after every IDB and EPB.
	if n := len(s.order); n < len(s.stats) || bytes.Count(s.order[n-len(s.stats):], []byte{'T'}) != len(s.stats) {
		t.Errorf("block order %s: ISBs are not all at the end", s.order)
	}
}

// isHostOrder reports whether order is the byte order of this machine.
func isHostOrder(order binary.ByteOrder) bool {
	probe := []byte{1, 2}
	return order.Uint16(probe) == ne.Uint16(probe)
}

func TestEveryOptionComesBack(t *testing.T) {
	b, err := goldenStream()
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(b)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstModel(t, s, modelOf(goldenOps()), goldenOptions(), goldenStart, goldenEnd)
	if !isHostOrder(s.section.order) {
		t.Errorf("section in %v, want the host's byte order", s.section.order)
	}
	if want := "SIIIPPPPPIPPIIPPPTTTTTT"; string(s.order) != want {
		t.Errorf("block order %s, want %s", s.order, want)
	}
	// Spot checks that do not go through the model.
	if st := s.stats[0]; st.ifRecv != 8 || st.ifDrop != 5 || st.usrDeliv != 3 {
		t.Errorf("interface 0 statistics %+v, want received 8, dropped 5 (3+2), delivered 3", st)
	}
	if st := s.stats[1]; st.ifRecv != 8 || st.ifDrop != 6 || st.usrDeliv != 2 {
		t.Errorf("interface 1 statistics %+v, want received 8, dropped 6 (1+5 added), delivered 2", st)
	}
	if p := s.packets[0]; !p.hasDropCount || p.dropCount != 0 || !p.hasPacketID || p.packetID != 0 {
		t.Errorf("packet 0 %+v: want epb_dropcount 0 and epb_packetid 0 written", p)
	}
	if p := s.packets[7]; p.comment != nil || len(p.optionCodes) != 1 {
		t.Errorf("packet 7 %+v: want only epb_flags (its comment is empty)", p)
	}
}

func TestOptionOrder(t *testing.T) {
	var buf bytesBuffer
	w := NewWriter(&buf, &WriterOptions{Application: "a", OS: "o", Hardware: "h", Comment: "c"})
	if _, err := w.AddInterface(&Interface{Name: "n", Description: "d", OS: "o", Filter: "f", Hardware: "h", Comment: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&Packet{Data: []byte{1}, Flags: 3, DropCount: 1, PacketID: 2, HasPacketID: true, Comment: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(buf.b) // also checks that opt_endofopt ends every options list
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		block     string
		got, want []uint16
	}{
		{"SHB", s.section.optionCodes, []uint16{optComment, shbHardware, shbOS, shbUserAppl}},
		{"IDB", s.interfaces[0].optionCodes, []uint16{optComment, ifName, ifDescription, ifTsresol, ifFilter, ifOS, ifHardware}},
		{"EPB", s.packets[0].optionCodes, []uint16{optComment, epbFlags, epbDropCount, epbPacketID}},
		{"ISB", s.stats[0].optionCodes, []uint16{isbStartTime, isbEndTime, isbIfRecv, isbIfDrop, isbUsrDeliv}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s options %v, want %v", c.block, c.got, c.want)
		}
	}
	if buf.b[len(buf.b)-8] != 0 || !bytes.Equal(buf.b[len(buf.b)-8:len(buf.b)-4], []byte{0, 0, 0, 0}) {
		t.Errorf("last ISB does not end with opt_endofopt: % x", buf.b[len(buf.b)-8:])
	}
}

// TestPadding writes data and comments of every length modulo 4 into a
// buffer that is reused after each flush and full of stale 0xFF bytes: the
// parser rejects any padding byte that is not zero.
func TestPadding(t *testing.T) {
	var buf bytesBuffer
	w := NewWriter(&buf, &WriterOptions{BufferSize: 1, Comment: "x"})
	for _, name := range []string{"", "a", "ab", "abc", "abcd", "abcde"} {
		if _, err := w.AddInterface(&Interface{Name: name, Description: name + "!", Filter: name}); err != nil {
			t.Fatal(err)
		}
	}
	ff := bytes.Repeat([]byte{0xFF}, 64)
	for n := 0; n <= 9; n++ {
		for c := 0; c <= 9; c++ {
			// A large block first leaves 0xFF where the next, smaller one pads.
			if err := w.WritePacket(&Packet{Data: ff, Comment: ff}); err != nil {
				t.Fatal(err)
			}
			p := &Packet{Data: ff[:n], LinkHeader: ff[:c%3], Comment: bytes.Repeat([]byte("é"), c)[:c]}
			if err := w.WritePacket(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(buf.b)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range s.packets[1:] {
		if i%2 == 1 {
			continue
		}
		n, c := i/2/10, i/2%10
		if len(p.data) != n+c%3 || len(p.comment) != c {
			t.Errorf("packet %d: %d data bytes and %d comment bytes, want %d and %d", i+1, len(p.data), len(p.comment), n+c%3, c)
		}
	}
}

func TestEmptyCommentOmitted(t *testing.T) {
	sizes := map[string]int{}
	for name, comment := range map[string][]byte{"nil": nil, "empty": {}, "one": []byte("x")} {
		w := NewWriter(io.Discard, nil)
		if _, err := w.AddInterface(&Interface{}); err != nil {
			t.Fatal(err)
		}
		before := w.Buffered()
		if err := w.WritePacket(&Packet{Data: []byte{1, 2, 3, 4}, Comment: comment}); err != nil {
			t.Fatal(err)
		}
		sizes[name] = w.Buffered() - before
	}
	// No options at all: no opt_endofopt either.
	if sizes["nil"] != epbFixed+4 || sizes["empty"] != epbFixed+4 {
		t.Errorf("EPB sizes without a comment: nil %d, empty %d; want %d", sizes["nil"], sizes["empty"], epbFixed+4)
	}
	if sizes["one"] != epbFixed+4+8+4 {
		t.Errorf("EPB size with a 1-byte comment: %d, want %d", sizes["one"], epbFixed+4+8+4)
	}
}

// recorder keeps every Write call separately.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

// variedOps is a stream with blocks of many sizes, interfaces added late,
// and options on some packets.
func variedOps(n int) []op {
	ops := []op{{ifc: &Interface{LinkType: LinkTypeRaw, Name: "first"}}}
	data := bytes.Repeat([]byte{0xAB}, 3000)
	for i := range n {
		if i%97 == 50 {
			ops = append(ops, op{ifc: &Interface{LinkType: LinkTypeLinuxSLL2, Name: "late", Description: string(data[:i%200])}})
		}
		p := &Packet{Interface: i % 2 % len(ops[:1+i/97]), Timestamp: int64(i) * 1e6, Data: data[:(i*37)%3000], Flags: uint32(i % 3)}
		if i%5 == 0 {
			p.Comment = data[:i%50]
			p.PacketID, p.HasPacketID = uint64(i), true
		}
		ops = append(ops, op{pkt: p})
	}
	return ops
}

func TestBlocksNeverSplitAcrossWrites(t *testing.T) {
	var whole bytesBuffer
	ww := NewWriter(&whole, &WriterOptions{Clock: clockAt(goldenStart)})
	if err := apply(ww, variedOps(500)); err != nil {
		t.Fatal(err)
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 100, 1000, 4096, 65536} {
		var rec recorder
		w := NewWriter(&rec, &WriterOptions{BufferSize: size, Clock: clockAt(goldenStart)})
		if err := apply(w, variedOps(500)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var all []byte
		for i, chunk := range rec.writes {
			if _, err := splitBlocks(chunk, ne); err != nil {
				t.Fatalf("BufferSize %d: Write %d of %d bytes is not whole blocks: %v", size, i, len(chunk), err)
			}
			all = append(all, chunk...)
		}
		if !bytes.Equal(all, whole.b) {
			t.Errorf("BufferSize %d: %d writes make a stream that differs from the unsplit one", size, len(rec.writes))
		}
		if size < 4096 && len(rec.writes) < 10 {
			t.Errorf("BufferSize %d: only %d writes; the test did not split anything", size, len(rec.writes))
		}
		if w.Written() != int64(len(all)) || w.Buffered() != 0 {
			t.Errorf("BufferSize %d: Written %d, Buffered %d; want %d, 0", size, w.Written(), w.Buffered(), len(all))
		}
	}
}

func TestAutoFlushAtBufferSize(t *testing.T) {
	const size = 1000
	var rec recorder
	w := NewWriter(&rec, &WriterOptions{BufferSize: size, Application: "x"})
	if _, err := w.AddInterface(&Interface{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	header := w.Buffered()
	const block = epbFixed + 100
	p := &Packet{Data: make([]byte, 100)}
	fit := (size - header) / block // packets that fit with the headers
	for i := range fit {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		if len(rec.writes) != 0 {
			t.Fatalf("Write after %d packets, with %d of %d bytes buffered", i+1, w.Buffered(), size)
		}
	}
	if w.Buffered() != header+fit*block {
		t.Fatalf("Buffered %d, want %d", w.Buffered(), header+fit*block)
	}
	if err := w.WritePacket(p); err != nil { // does not fit: flushes the rest first
		t.Fatal(err)
	}
	if len(rec.writes) != 1 || len(rec.writes[0]) != header+fit*block || w.Buffered() != block {
		t.Fatalf("after overflowing: %d writes (first %d bytes), %d buffered; want 1 of %d, %d buffered",
			len(rec.writes), len(rec.writes[0]), w.Buffered(), header+fit*block, block)
	}
	// A block larger than the buffer goes out whole, in a Write of its own.
	if err := w.WritePacket(&Packet{Data: make([]byte, 3*size)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 3 || len(rec.writes[1]) != block || len(rec.writes[2]) != epbFixed+3*size {
		t.Errorf("write sizes %v, want [_ %d %d]", lens(rec.writes), block, epbFixed+3*size)
	}
	if err := w.Flush(); err != nil || len(rec.writes) != 3 {
		t.Errorf("Flush with nothing buffered: %v, %d writes; want no Write", err, len(rec.writes))
	}
}

func lens(b [][]byte) []int {
	var n []int
	for _, c := range b {
		n = append(n, len(c))
	}
	return n
}

// failingWriter accepts limit bytes, then fails.
type failingWriter struct {
	limit int
	short bool // return a short count without an error instead
}

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return len(p), nil
	}
	n := f.limit
	f.limit = 0
	if f.short {
		return n, nil
	}
	return n, errDiskFull
}

func TestStickyError(t *testing.T) {
	for _, c := range []struct {
		name string
		w    *failingWriter
		want error
	}{
		{"error", &failingWriter{limit: 100}, errDiskFull},
		{"short write", &failingWriter{limit: 100, short: true}, io.ErrShortWrite},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := NewWriter(c.w, &WriterOptions{BufferSize: 200})
			if _, err := w.AddInterface(&Interface{Name: "a"}); err != nil {
				t.Fatal(err)
			}
			var first error
			for i := 0; first == nil && i < 100; i++ {
				first = w.WritePacket(&Packet{Data: make([]byte, 50)})
			}
			if !errors.Is(first, c.want) {
				t.Fatalf("WritePacket: %v, want %v", first, c.want)
			}
			written := w.Written()
			if written != 100 {
				t.Errorf("Written %d, want the 100 bytes the writer took", written)
			}
			checks := map[string]error{
				"Err":                     w.Err(),
				"WritePacket":             w.WritePacket(&Packet{Data: []byte{1}}),
				"Flush":                   w.Flush(),
				"Close":                   w.Close(),
				"Close again":             w.Close(),
				"WritePacket after Close": w.WritePacket(&Packet{}),
			}
			_, checks["AddInterface"] = w.AddInterface(&Interface{})
			for call, err := range checks {
				if err != first {
					t.Errorf("%s: %v, want the first error %v", call, err, first)
				}
			}
			if w.Written() != written {
				t.Errorf("Written went from %d to %d after the error", written, w.Written())
			}
		})
	}
}

func TestArgumentErrorsLeaveWriterUsable(t *testing.T) {
	var buf bytesBuffer
	w := NewWriter(&buf, nil)
	id, err := w.AddInterface(&Interface{})
	if err != nil || id != 0 {
		t.Fatalf("AddInterface = %d, %v", id, err)
	}
	long := make([]byte, 1<<16)
	for _, c := range []struct {
		name string
		p    *Packet
		want error
	}{
		{"nil", nil, ErrInvalid},
		{"unknown interface", &Packet{Interface: 1}, ErrInvalid},
		{"negative interface", &Packet{Interface: -1}, ErrInvalid},
		{"negative timestamp", &Packet{Timestamp: -1}, ErrInvalid},
		{"long comment", &Packet{Comment: long}, ErrTooLong},
	} {
		if err := w.WritePacket(c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := w.AddInterface(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddInterface(nil): %v, want ErrInvalid", err)
	}
	if _, err := w.AddInterface(&Interface{Name: string(long)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("AddInterface with a 64 KiB name: %v, want ErrTooLong", err)
	}
	if _, err := w.AddInterface(&Interface{Filter: string(long[:maxOptionLength])}); !errors.Is(err, ErrTooLong) {
		t.Errorf("AddInterface with a 65535-byte filter (plus its type byte): %v, want ErrTooLong", err)
	}
	id, err = w.AddInterface(&Interface{})
	if err != nil || id != 1 {
		t.Fatalf("AddInterface after errors = %d, %v; want 1", id, err)
	}
	if err := w.WritePacket(&Packet{Interface: 1, Data: make([]byte, 7), Comment: long[:maxOptionLength]}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&Packet{Data: make([]byte, 10), OriginalLength: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	w.AddDrops(7, 1) // unknown: ignored
	w.AddDrops(-1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(buf.b)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.interfaces) != 2 || len(s.packets) != 2 || len(s.stats) != 2 {
		t.Fatalf("%d interfaces, %d packets, %d ISBs; want 2, 2, 2", len(s.interfaces), len(s.packets), len(s.stats))
	}
	if len(s.packets[0].comment) != maxOptionLength || s.packets[1].origLen != 1<<20 {
		t.Errorf("packets %+v", s.packets)
	}
	if s.stats[0].ifDrop != 0 || s.stats[1].ifDrop != 0 {
		t.Errorf("drops on unknown interfaces were counted: %+v", s.stats)
	}
}

func TestOptionTooLongFailsWriter(t *testing.T) {
	var rec recorder
	w := NewWriter(&rec, &WriterOptions{Comment: string(make([]byte, 1<<16))})
	if !errors.Is(w.Err(), ErrTooLong) {
		t.Fatalf("Err = %v, want ErrTooLong", w.Err())
	}
	if _, err := w.AddInterface(&Interface{}); !errors.Is(err, ErrTooLong) {
		t.Errorf("AddInterface: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrTooLong) || len(rec.writes) != 0 {
		t.Errorf("Close: %v after %d writes; want ErrTooLong and nothing written", err, len(rec.writes))
	}
}

// closeRecorder notices a Close call.
type closeRecorder struct {
	bytesBuffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestClose(t *testing.T) {
	var dst closeRecorder
	w := NewWriter(&dst, &WriterOptions{Clock: clockAt(goldenStart, goldenEnd)})
	for range 3 {
		if _, err := w.AddInterface(&Interface{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WritePacket(&Packet{Interface: 2, Timestamp: 5, Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	w.AddDrops(2, 4)
	w.AddDrops(2, ^uint64(0)) // saturates instead of wrapping
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if dst.closed {
		t.Error("Close closed the io.Writer")
	}
	if w.Buffered() != 0 || w.Written() != int64(len(dst.b)) || w.Interfaces() != 3 {
		t.Errorf("Buffered %d, Written %d of %d, Interfaces %d", w.Buffered(), w.Written(), len(dst.b), w.Interfaces())
	}
	n := len(dst.b)
	if err := w.WritePacket(&Packet{Interface: 0, Data: []byte{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePacket after Close: %v", err)
	}
	if _, err := w.AddInterface(&Interface{}); !errors.Is(err, ErrClosed) {
		t.Errorf("AddInterface after Close: %v", err)
	}
	w.AddDrops(0, 1)
	if err := w.Close(); err != nil || len(dst.b) != n {
		t.Errorf("second Close: %v, %d more bytes; want nil and no ISBs", err, len(dst.b)-n)
	}
	if err := w.Flush(); err != nil || w.Err() != nil {
		t.Errorf("Flush after Close: %v, Err %v", err, w.Err())
	}
	s, err := parseStream(dst.b)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.order) != "SIIIPTTT" {
		t.Errorf("blocks %s, want SIIIPTTT", s.order)
	}
	if st := s.stats[2]; st.ifDrop != ^uint64(0) || st.ifRecv != ^uint64(0) || st.usrDeliv != 1 {
		t.Errorf("saturated statistics %+v", st)
	}
	if st := s.stats[0]; st.ifDrop != 0 || st.ifRecv != 0 || st.usrDeliv != 0 {
		t.Errorf("idle interface statistics %+v, want zeros", st)
	}
}

func TestDefaults(t *testing.T) {
	before := time.Now()
	var buf bytesBuffer
	w := NewWriter(&buf, nil)
	if _, err := w.AddInterface(&Interface{}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&Packet{Data: make([]byte, DefaultBufferSize/2)}); err != nil {
		t.Fatal(err)
	}
	if len(buf.b) != 0 {
		t.Errorf("wrote %d bytes with half the default buffer used", len(buf.b))
	}
	if err := w.WritePacket(&Packet{Data: make([]byte, DefaultBufferSize/2)}); err != nil {
		t.Fatal(err)
	}
	if len(buf.b) == 0 {
		t.Errorf("nothing written with more than the default buffer size buffered")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	s, err := parseStream(buf.b)
	if err != nil {
		t.Fatal(err)
	}
	osName, machine := HostInfo()
	if osName == "" || s.section.os != osName || s.section.hardware != machine || s.section.application != "" || s.section.comment != "" {
		t.Errorf("default section %+v, want OS %q, hardware %q", s.section, osName, machine)
	}
	st := s.stats[0]
	if st.startTime < uint64(before.UnixNano()) || st.endTime > uint64(after.UnixNano()) || st.startTime > st.endTime {
		t.Errorf("statistics from %d to %d, outside the test's %d to %d", st.startTime, st.endTime, before.UnixNano(), after.UnixNano())
	}
}

func TestEndTimeNotBeforeStart(t *testing.T) {
	var buf bytesBuffer
	w := NewWriter(&buf, &WriterOptions{Clock: clockAt(goldenEnd, goldenStart)})
	if _, err := w.AddInterface(&Interface{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(buf.b)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.stats[0]; st.startTime != uint64(goldenEnd.UnixNano()) || st.endTime != st.startTime {
		t.Errorf("clock going backwards gave %+v, want end = start", st)
	}
}

func TestTimestampsAtNanosecondResolution(t *testing.T) {
	stamps := []int64{0, 1, 999_999_999, 1 << 32, 1<<32 - 1, goldenStart.UnixNano(), 1<<63 - 1}
	var buf bytesBuffer
	w := NewWriter(&buf, nil)
	if _, err := w.AddInterface(&Interface{}); err != nil {
		t.Fatal(err)
	}
	for _, ts := range stamps {
		if err := w.WritePacket(&Packet{Timestamp: ts}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := parseStream(buf.b)
	if err != nil {
		t.Fatal(err)
	}
	for i, ts := range stamps {
		if s.packets[i].timestamp != uint64(ts) {
			t.Errorf("timestamp %d came back as %d", ts, s.packets[i].timestamp)
		}
	}
}

func TestTruncation(t *testing.T) {
	hdr := []byte{1, 2, 3, 4, 5, 6}
	data := []byte{7, 8, 9, 10, 11}
	big := make([]byte, MaxCaptureLength+100)
	big[MaxCaptureLength-1] = 0xEE
	for _, c := range []struct {
		name     string
		snapLen  uint32
		p        Packet
		wantData []byte
		wantOrig uint32
	}{
		{"within snaplen", 11, Packet{LinkHeader: hdr, Data: data}, append(hdr, data...), 11},
		{"cut in the data", 8, Packet{LinkHeader: hdr, Data: data}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 11},
		{"cut in the link header", 4, Packet{LinkHeader: hdr, Data: data}, []byte{1, 2, 3, 4}, 11},
		{"original length kept", 8, Packet{LinkHeader: hdr, Data: data, OriginalLength: 1500}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 1500},
		{"original length raised", 0, Packet{Data: data, OriginalLength: 2}, data, 5},
		{"original length capped", 0, Packet{Data: data, OriginalLength: math.MaxInt}, data, uint32(min(uint64(math.MaxInt), 1<<32-1))},
		{"MaxCaptureLength", 0, Packet{Data: big}, big[:MaxCaptureLength], MaxCaptureLength + 100},
		{"MaxCaptureLength under a larger snaplen", 1 << 20, Packet{Data: big}, big[:MaxCaptureLength], MaxCaptureLength + 100},
	} {
		var buf bytesBuffer
		w := NewWriter(&buf, nil)
		if _, err := w.AddInterface(&Interface{SnapLen: c.snapLen}); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(&c.p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := parseStream(buf.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := s.packets[0]; !bytes.Equal(got.data, c.wantData) || got.origLen != c.wantOrig || int(got.capLen) != len(c.wantData) {
			t.Errorf("%s: captured %d bytes (%d in the field), original %d; want %d, %d",
				c.name, len(got.data), got.capLen, got.origLen, len(c.wantData), c.wantOrig)
		}
	}
}

// TestNoDestination: a nil io.Writer or a zero Writer fails every call
// instead of panicking.
func TestNoDestination(t *testing.T) {
	for name, w := range map[string]*Writer{"NewWriter(nil)": NewWriter(nil, nil), "zero Writer": new(Writer)} {
		_, errAdd := w.AddInterface(&Interface{})
		errs := []error{errAdd, w.WritePacket(&Packet{}), w.Flush(), w.Close()}
		w.AddDrops(0, 1)
		for i, err := range errs {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: call %d: %v, want ErrInvalid", name, i, err)
			}
		}
		if w.Buffered() != 0 || w.Written() != 0 || w.Interfaces() != 0 {
			t.Errorf("%s: Buffered %d, Written %d, Interfaces %d", name, w.Buffered(), w.Written(), w.Interfaces())
		}
	}
	// A huge BufferSize does not allocate it up front.
	var buf bytesBuffer
	w := NewWriter(&buf, &WriterOptions{BufferSize: math.MaxInt})
	if _, err := w.AddInterface(&Interface{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || len(buf.b) == 0 {
		t.Fatalf("Close: %v, %d bytes", err, len(buf.b))
	}
}
