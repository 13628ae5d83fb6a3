package nflog_test

import (
	"time"

	"github.com/nflogcap/nflogcap/internal/nflogtest"
	"github.com/nflogcap/nflogcap/nflog"
)

// Messages are built with internal/nflogtest, the parser's inverse.

// fullEvent has every attribute, for tests that need all of them.
func fullEvent() nflog.Event {
	return nflog.Event{
		Family: nflog.FamilyIPv4, Group: 5000, HWProtocol: 0x0800, Hook: nflog.HookForward,
		Present: nflog.AttrPacketHdr | nflog.AttrMark | nflog.AttrTimestamp | nflog.AttrInDev | nflog.AttrOutDev |
			nflog.AttrPhysInDev | nflog.AttrPhysOutDev | nflog.AttrHWAddr | nflog.AttrPayload | nflog.AttrPrefix |
			nflog.AttrUID | nflog.AttrSeq | nflog.AttrSeqGlobal | nflog.AttrGID | nflog.AttrHWType |
			nflog.AttrHWHeader | nflog.AttrHWLen | nflog.AttrCT | nflog.AttrCTInfo | nflog.AttrVLAN | nflog.AttrL2Header,
		Time: time.Unix(1764787200, 123456000), TimeSource: nflog.TimeKernel,
		Mark: 0x2a, InDev: 3, OutDev: 4, PhysInDev: 5, PhysOutDev: 6, UID: 1000, GID: 100, Seq: 41, SeqGlobal: 99,
		HWAddr: []byte{2, 0, 0, 0, 0, 1}, HWType: 1, HWLen: 14, HWHeader: make([]byte, 14),
		Prefix: []byte("ssh-drop"), Payload: []byte{0x45, 0, 0, 20, 1, 2, 3, 4},
		CT: nflogtest.AppendAttr(nil, 1|0x8000, nflogtest.AppendAttr(nil, 1, nflogtest.BE32(0x7f000001))), CTInfo: 2,
		VLANProto: 0x8100, VLANTCI: 100, L2Header: make([]byte, 14),
	}
}
