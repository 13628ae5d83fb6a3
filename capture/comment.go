package capture

import (
	"strconv"

	"github.com/nflogcap/nflogcap/internal/escape"
	"github.com/nflogcap/nflogcap/nflog"
)

// interfaceNamer resolves interface indexes to display names, already
// escaped; ifNames in production, a map in tests. generation changes
// whenever a name may have changed, so cached text can be rebuilt.
type interfaceNamer interface {
	lookup(idx uint32) (string, bool)
	generation() uint64
}

// appendComment appends the packet's metadata as the opt_comment Wireshark
// shows and filters on (frame.comment contains "hook=input"):
//
//	hook=input in=eth0 out= mark=0x2a uid=0 gid=0
//
// in and out are always there (empty when absent); the rest only when the
// kernel sent them. Indexes whose interface is gone are written as #N.
//
// The per-group sequence number is not repeated here: it is the block's
// epb_packetid (Wireshark's frame.packet_id). A flood's comments are then
// the same text packet after packet, which the encoder copies instead of
// formatting, and shorter by the " seq=N" they held.
func appendComment(b []byte, ev *nflog.Event, names interfaceNamer, withPrefix bool) []byte {
	return appendCommentTail(appendCommentHead(b, ev, names), ev, withPrefix)
}

// commentHeadAttrs are the attributes the head of a comment shows.
const commentHeadAttrs = nflog.AttrPhysInDev | nflog.AttrPhysOutDev | nflog.AttrMark | nflog.AttrUID | nflog.AttrGID

// commentHeadKey is everything the head of a comment depends on. Packets
// of one flow share it, so the encoder reuses the head's text instead of
// resolving names and formatting numbers for every packet.
type commentHeadKey struct {
	family                         nflog.Family
	hook                           uint8
	present                        nflog.Attr
	in, out, physIn, physOut, mark uint32
	uid, gid                       uint32
	namesGeneration                uint64
}

func makeCommentHeadKey(ev *nflog.Event, namesGeneration uint64) commentHeadKey {
	return commentHeadKey{
		family: ev.Family, hook: ev.Hook, present: ev.Present & commentHeadAttrs,
		in: ev.InDev, out: ev.OutDev, physIn: ev.PhysInDev, physOut: ev.PhysOutDev,
		mark: ev.Mark, uid: ev.UID, gid: ev.GID, namesGeneration: namesGeneration,
	}
}

// matches reports whether k is ev's key: the same as
// makeCommentHeadKey(ev, gen) == *k, without building a key per packet (it
// cost a tenth of encoding a packet in a flood).
func (k *commentHeadKey) matches(ev *nflog.Event, namesGeneration uint64) bool {
	return k.in == ev.InDev && k.out == ev.OutDev && k.hook == ev.Hook && k.family == ev.Family &&
		k.present == ev.Present&commentHeadAttrs && k.mark == ev.Mark && k.uid == ev.UID && k.gid == ev.GID &&
		k.physIn == ev.PhysInDev && k.physOut == ev.PhysOutDev && k.namesGeneration == namesGeneration
}

// appendCommentHead appends the part of the comment that stays the same
// along a flow: hook, interfaces, mark, owner.
func appendCommentHead(b []byte, ev *nflog.Event, names interfaceNamer) []byte {
	b = append(b, "hook="...)
	b = append(b, ev.HookName()...)
	b = appendIf(b, " in=", ev.InDev, names)
	b = appendIf(b, " out=", ev.OutDev, names)
	if ev.Has(nflog.AttrPhysInDev) {
		b = appendIf(b, " physin=", ev.PhysInDev, names)
	}
	if ev.Has(nflog.AttrPhysOutDev) {
		b = appendIf(b, " physout=", ev.PhysOutDev, names)
	}
	if ev.Has(nflog.AttrMark) {
		b = append(b, " mark=0x"...)
		b = strconv.AppendUint(b, uint64(ev.Mark), 16)
	}
	if ev.Has(nflog.AttrUID) {
		b = append(b, " uid="...)
		b = strconv.AppendUint(b, uint64(ev.UID), 10)
	}
	if ev.Has(nflog.AttrGID) {
		b = append(b, " gid="...)
		b = strconv.AppendUint(b, uint64(ev.GID), 10)
	}
	return b
}

// commentTailAttrs are the attributes that put something in a comment's tail.
const commentTailAttrs = nflog.AttrSeqGlobal | nflog.AttrCTInfo | nflog.AttrVLAN

// hasCommentTail reports whether appendCommentTail appends anything. Most
// packets of a flood have no tail, and their comment is the head alone.
func hasCommentTail(ev *nflog.Event, withPrefix bool) bool {
	return ev.Present&commentTailAttrs != 0 || ev.LostBefore > 0 || ev.TimeSource == nflog.TimeReceived || withPrefix
}

// appendCommentTail appends what may change from packet to packet.
func appendCommentTail(b []byte, ev *nflog.Event, withPrefix bool) []byte {
	if ev.Has(nflog.AttrSeqGlobal) {
		b = append(b, " seqglobal="...)
		b = strconv.AppendUint(b, uint64(ev.SeqGlobal), 10)
	}
	if ev.Has(nflog.AttrCTInfo) { // CTState says so too, but is a call
		b = append(b, " ct="...)
		b = append(b, ev.CTState()...)
	}
	if ev.Has(nflog.AttrVLAN) {
		b = append(b, " vlan="...)
		b = strconv.AppendUint(b, uint64(ev.VLANTCI&0xfff), 10)
	}
	if ev.LostBefore > 0 {
		b = append(b, " lost="...)
		b = strconv.AppendUint(b, ev.LostBefore, 10)
	}
	if ev.TimeSource == nflog.TimeReceived {
		// Output and postrouting packets carry no kernel timestamp.
		b = append(b, " time=received"...)
	}
	if withPrefix {
		b = append(b, " prefix="...)
		b = escape.Append(b, ev.Prefix)
	}
	return b
}

func appendIf(b []byte, label string, idx uint32, names interfaceNamer) []byte {
	b = append(b, label...)
	if idx == 0 {
		return b
	}
	if names != nil {
		if name, ok := names.lookup(idx); ok {
			return append(b, name...)
		}
	}
	b = append(b, '#')
	return strconv.AppendUint(b, uint64(idx), 10)
}
