package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns"
)

// udpSender sends datagrams from inside a namespace through an unconnected
// socket (so ICMP errors from closed ports do not fail later sends).
type udpSender struct{ conn *net.UDPConn }

func newUDPSender(t *testing.T, ns *netns.NS, network string) *udpSender {
	t.Helper()
	var s udpSender
	if err := ns.Do(func() error {
		c, err := net.ListenUDP(network, nil)
		s.conn = c
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.conn.Close() })
	return &s
}

// send sends n datagrams to addr; datagram i is payload(i, size).
func (s *udpSender) send(t *testing.T, addr string, first, n, size int) {
	t.Helper()
	ua := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr))
	for i := first; i < first+n; i++ {
		if _, err := s.conn.WriteToUDP(payload(i, size), ua); err != nil {
			t.Fatalf("send %d to %s: %v", i, addr, err)
		}
	}
}

// payload is datagram i: its number, then a pattern.
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i + j)
	}
	copy(b, fmt.Sprintf("%08d", i))
	return b
}

// flood sends count datagrams of size bytes as fast as one core allows, from
// inside ns to dst (which must have a socket bound, or be dropped by a rule,
// so the connected sender gets no ICMP errors).
func flood(t *testing.T, ns *netns.NS, dst string, count, size int, rate float64) loadgen.Result {
	t.Helper()
	var s *loadgen.Sender
	if err := ns.Do(func() error {
		var err error
		s, err = loadgen.Dial(netip.MustParseAddrPort(dst))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Send(ctx, loadgen.Config{Count: count, Size: size, Rate: rate})
	if err != nil {
		t.Fatalf("flood: %v (sent %d)", err, res.Sent)
	}
	return res
}

// sink binds a UDP socket in ns that reads and discards, so floods to it
// produce no ICMP errors.
func sink(t *testing.T, ns *netns.NS, addr string) {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err == nil {
			err = c.SetReadBuffer(1 << 20)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
}
