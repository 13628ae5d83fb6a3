package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzWriter writes an interface and a packet built from arbitrary values,
// then a late interface with the same packet on it, and checks that the
// stream parses back to exactly those values, that ValidPrefix takes all of
// it, and that the Writer rejects precisely the packets it documents as
// unencodable.
func FuzzWriter(f *testing.F) {
	var ifaces []Interface
	for _, o := range goldenOps() {
		if o.ifc != nil {
			ifaces = append(ifaces, *o.ifc)
			continue
		}
		if p := o.pkt; p != nil {
			ifc := ifaces[p.Interface]
			f.Add(ifc.Name, ifc.Description, uint16(ifc.LinkType), ifc.SnapLen, p.Comment, p.LinkHeader, p.Data,
				p.Timestamp, p.OriginalLength, p.Flags, p.DropCount, p.HasDropCount, p.PacketID, p.HasPacketID, uint64(3), 100)
		}
	}
	f.Fuzz(func(t *testing.T, name, description string, linkType uint16, snapLen uint32, comment, linkHeader, data []byte,
		timestamp int64, originalLength int, flags uint32, dropCount uint64, hasDropCount bool,
		packetID uint64, hasPacketID bool, drops uint64, bufferSize int) {
		opts := &WriterOptions{Comment: description, Application: name, OS: "fuzz", Hardware: "fuzz",
			BufferSize: bufferSize, Clock: clockAt(goldenStart, goldenEnd)}
		var buf bytesBuffer
		w := NewWriter(&buf, opts)
		if len(name) > maxOptionLength || len(description) > maxOptionLength {
			if !errors.Is(w.Err(), ErrTooLong) {
				t.Fatalf("option of %d/%d bytes: Err %v, want ErrTooLong", len(name), len(description), w.Err())
			}
			return
		}
		var ops []op
		add := func(ifc *Interface) {
			_, err := w.AddInterface(ifc)
			if wantErr := len(ifc.Name) > maxOptionLength || len(ifc.Description) > maxOptionLength; wantErr != (err != nil) {
				t.Fatalf("AddInterface: %v, want an error: %v", err, wantErr)
			}
			if err == nil {
				ops = append(ops, op{ifc: ifc})
			}
		}
		write := func(p *Packet) {
			if p.Interface >= w.Interfaces() {
				return
			}
			wantErr := p.Timestamp < 0 || len(p.Comment) > maxOptionLength
			err := w.WritePacket(p)
			if wantErr != (err != nil) {
				t.Fatalf("WritePacket: %v, want an error: %v", err, wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("WritePacket: unexpected kind of error %v", err)
			}
			if err == nil {
				ops = append(ops, op{pkt: p})
			}
		}
		first := &Interface{LinkType: LinkType(linkType), Name: name, Description: description, SnapLen: snapLen, Comment: string(comment)}
		if len(comment) > maxOptionLength {
			first.Comment = ""
		}
		add(first)
		p := &Packet{Timestamp: timestamp, LinkHeader: linkHeader, Data: data, OriginalLength: originalLength,
			Flags: flags, DropCount: dropCount, HasDropCount: hasDropCount, PacketID: packetID, HasPacketID: hasPacketID,
			Comment: comment}
		write(p)
		add(&Interface{LinkType: LinkType(linkType) ^ 1, Name: description, Description: name, SnapLen: snapLen})
		late := *p
		late.Interface = 1
		write(&late)
		w.AddDrops(0, drops)
		w.AddDrops(1, drops/2)
		ops = append(ops, op{dropsIface: 0, drops: drops}, op{dropsIface: 1, drops: drops / 2})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		s, err := parseStream(buf.b)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstModel(t, s, modelOf(ops), opts, goldenStart, goldenEnd)
		if n, err := ValidPrefix(bytes.NewReader(buf.b), int64(len(buf.b))); err != nil || n != int64(len(buf.b)) {
			t.Fatalf("ValidPrefix = %d, %v; want %d", n, err, len(buf.b))
		}
	})
}

// FuzzValidPrefix: arbitrary bytes never panic, and the prefix returned is
// within the stream, made of whole blocks from an SHB on, and its own valid
// prefix.
func FuzzValidPrefix(f *testing.F) {
	golden, err := goldenStream()
	if err != nil {
		f.Fatal(err)
	}
	other, err := toByteOrder(golden, otherOrder())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)-5])
	f.Add(other)
	f.Add(append(bytes.Clone(golden), other...))
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint32(nil, blockSHB))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ValidPrefix(bytes.NewReader(data), int64(len(data)))
		if n < 0 || n > int64(len(data)) {
			t.Fatalf("ValidPrefix = %d for %d bytes", n, len(data))
		}
		if err != nil {
			if !errors.Is(err, ErrNotPcapng) || n != 0 {
				t.Fatalf("ValidPrefix = %d, %v", n, err)
			}
			return
		}
		if n == 0 {
			return
		}
		if _, err := splitBlocks(data[:n], nil); err != nil {
			t.Fatalf("prefix of %d bytes is not whole blocks: %v", n, err)
		}
		if again, err := ValidPrefix(bytes.NewReader(data[:n]), n); err != nil || again != n {
			t.Fatalf("ValidPrefix of the prefix = %d, %v; want %d", again, err, n)
		}
	})
}
