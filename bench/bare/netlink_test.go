//go:build linux

package main

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func packetMsg(seq uint32, withSeq bool) []byte {
	b := make([]byte, nlmsgHdrLen, 64)
	binary.NativeEndian.PutUint16(b[4:], msgPacket)
	b = append(b, unix.AF_INET, 0, 0x13, 0x88)
	b = attr(b, 9, []byte{0x45, 0, 0}) // a payload attribute before SEQ
	if withSeq {
		b = attr(b, attrSeq, be32(seq))
	}
	return finish(b)
}

func TestCountsParse(t *testing.T) {
	var dgram []byte
	for _, s := range []uint32{2, 3, 5} { // 0, 1 and 4 lost
		dgram = append(dgram, packetMsg(s, true)...)
	}
	dgram = append(dgram, packetMsg(0, false)...)
	done := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint16(done[4:], unix.NLMSG_DONE)
	dgram = append(dgram, finish(done)...)
	var c counts
	if err := c.parse(dgram); err != nil {
		t.Fatal(err)
	}
	if c.packets != 4 || c.lost != 3 || c.noSeq != 1 || c.backwards != 0 || c.datagrams != 1 {
		t.Fatalf("%+v", c)
	}
}

func TestCountsNack(t *testing.T) {
	m := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint16(m[4:], unix.NLMSG_ERROR)
	errno := -int32(unix.EPERM)
	binary.NativeEndian.PutUint32(m[nlmsgHdrLen:], uint32(errno))
	var c counts
	if err := c.parse(finish(m)); err == nil {
		t.Fatal("NACK not reported")
	}
	binary.NativeEndian.PutUint32(m[nlmsgHdrLen:], 0)
	if err := c.parse(finish(m)); err != nil {
		t.Fatalf("ACK reported as error: %v", err)
	}
}

func TestBindMessage(t *testing.T) {
	m := bindMessage(settings{group: 5000, nlbufsiz: 131072, qthresh: 64, timeout: 10}, 1)
	if int(binary.NativeEndian.Uint32(m)) != len(m) || len(m)%4 != 0 {
		t.Fatalf("length %d in a %d-byte message", binary.NativeEndian.Uint32(m), len(m))
	}
	if binary.BigEndian.Uint16(m[18:]) != 5000 {
		t.Fatal("group not in res_id")
	}
	// cmd(8) + mode(12) + nlbufsiz(8) + qthresh(8) + timeout(8) + flags(8)
	if len(m) != nlmsgHdrLen+nfgenHdrLen+52 {
		t.Fatalf("message is %d bytes", len(m))
	}
}
