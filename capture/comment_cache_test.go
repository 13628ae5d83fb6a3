package capture

import (
	"bytes"
	"testing"

	"github.com/nflogcap/nflogcap/nflog"
	"github.com/nflogcap/nflogcap/pcapng"
)

// The encoder reuses a comment's head along a flow. Each packet's comment
// must still be exactly what a fresh appendComment makes of it: a change in
// any field the head shows, or in the interface names, starts a new head.
func TestEncoderCommentHeadCache(t *testing.T) {
	names := &renamingNames{names: fakeNames{1: "lo", 2: "vA", 3: "br0"}}
	w := pcapng.NewWriter(discard{}, nil)
	e := newEncoder(&encoderConfig{linkType: pcapng.LinkTypeRaw, comments: true, maxInterfaces: 100, copyMode: nflog.CopyPacket, names: names}, w)
	base := fixtureEvents(t)[0]          // ipv4, input, in=lo, seq
	base.Present &^= nflog.AttrSeqGlobal // the default flags: a comment without a tail
	steps := []struct {
		name   string
		change func(ev *nflog.Event)
	}{
		{"same flow", func(ev *nflog.Event) {}},
		{"next seq", func(ev *nflog.Event) { ev.Seq++ }},
		{"global seq: a tail", func(ev *nflog.Event) { ev.SeqGlobal, ev.Present = 7, ev.Present|nflog.AttrSeqGlobal }},
		{"no tail again", func(ev *nflog.Event) { ev.Present &^= nflog.AttrSeqGlobal }},
		{"receive time", func(ev *nflog.Event) { ev.TimeSource = nflog.TimeReceived }},
		{"kernel time", func(ev *nflog.Event) { ev.TimeSource = nflog.TimeKernel }},
		{"ct", func(ev *nflog.Event) { ev.CTInfo, ev.Present = 2, ev.Present|nflog.AttrCTInfo }},
		{"ct goes", func(ev *nflog.Event) { ev.Present &^= nflog.AttrCTInfo }},
		{"vlan", func(ev *nflog.Event) { ev.VLANTCI, ev.Present = 5, ev.Present|nflog.AttrVLAN }},
		{"vlan goes", func(ev *nflog.Event) { ev.Present &^= nflog.AttrVLAN }},
		{"lost once", func(ev *nflog.Event) { ev.LostBefore = 2 }},
		{"none lost", func(ev *nflog.Event) { ev.LostBefore = 0 }},
		{"mark appears", func(ev *nflog.Event) { ev.Mark, ev.Present = 0x2a, ev.Present|nflog.AttrMark }},
		{"mark changes", func(ev *nflog.Event) { ev.Mark = 0x2b }},
		{"uid", func(ev *nflog.Event) { ev.UID, ev.Present = 1000, ev.Present|nflog.AttrUID }},
		{"gid", func(ev *nflog.Event) { ev.GID, ev.Present = 1001, ev.Present|nflog.AttrGID }},
		{"uid changes", func(ev *nflog.Event) { ev.UID = 0 }},
		{"in", func(ev *nflog.Event) { ev.InDev = 2 }},
		{"out", func(ev *nflog.Event) { ev.OutDev = 3 }},
		{"unnamed index", func(ev *nflog.Event) { ev.OutDev = 9 }},
		{"physin", func(ev *nflog.Event) { ev.PhysInDev, ev.Present = 2, ev.Present|nflog.AttrPhysInDev }},
		{"physout", func(ev *nflog.Event) { ev.PhysOutDev, ev.Present = 3, ev.Present|nflog.AttrPhysOutDev }},
		{"hook", func(ev *nflog.Event) { ev.Hook = nflog.HookForward }},
		{"family", func(ev *nflog.Event) { ev.Family = nflog.FamilyIPv6 }},
		{"rename", func(ev *nflog.Event) { names.names[2], names.gen = "wan0", names.gen+1 }},
		{"gone", func(ev *nflog.Event) { delete(names.names, 3); names.gen++ }},
		{"lost", func(ev *nflog.Event) { ev.LostBefore = 4 }},
		{"mark goes", func(ev *nflog.Event) { ev.Present &^= nflog.AttrMark }},
	}
	ev := base
	for _, s := range steps {
		s.change(&ev)
		if err := e.write(&ev); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want := appendComment(nil, &ev, names, false)
		if got := e.pkt.Comment; string(got) != string(want) {
			t.Errorf("%s: comment %q, want %q", s.name, got, want)
		}
		if bytes.Contains(e.pkt.Comment, []byte("seq=")) && !ev.Has(nflog.AttrSeqGlobal) {
			t.Errorf("%s: comment %q repeats the sequence number, which is the packet id", s.name, e.pkt.Comment)
		}
	}
}
