//go:build linux

package loadgen_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/loadgen"
	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
)

func TestPayloadRoundTrip(t *testing.T) {
	b := make([]byte, 100)
	loadgen.Fill(b)
	loadgen.PutSeq(b, 0x0102030405060708)
	if seq, ok := loadgen.Seq(b); !ok || seq != 0x0102030405060708 {
		t.Fatalf("Seq = %#x, %v", seq, ok)
	}
	if !loadgen.CheckPattern(b) || !loadgen.CheckPattern(b[:20]) {
		t.Fatal("CheckPattern rejects Fill's pattern")
	}
	b[50]++
	if loadgen.CheckPattern(b) {
		t.Fatal("CheckPattern accepts a changed byte")
	}
	if _, ok := loadgen.Seq(b[:7]); ok {
		t.Fatal("Seq accepts a 7-byte payload")
	}
}

func TestSendRejectsBadConfig(t *testing.T) {
	s := &loadgen.Sender{}
	for _, cfg := range []loadgen.Config{{Count: 0, Size: 64}, {Count: 1, Size: 7}, {Count: 1, Size: 64, Rate: -1}} {
		if _, err := s.Send(context.Background(), cfg); err == nil {
			t.Errorf("Send(%+v) succeeded", cfg)
		}
	}
}

// TestSendBurst checks that a receiver in the namespace gets every datagram of a
// small burst, each with its own sequence number and the fill pattern, both
// unthrottled and rate-limited.
func TestSendBurst(t *testing.T) {
	ns := nstest.New(t)
	for _, tc := range []struct {
		name string
		cfg  loadgen.Config
	}{
		{"flood", loadgen.Config{Count: 2000, Size: 200, FirstSeq: 1000}},
		{"rate", loadgen.Config{Count: 300, Size: 64, Rate: 10000}},
		{"small-batch", loadgen.Config{Count: 101, Size: 8, Batch: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rfd, port := listen(t, ns)
			var s *loadgen.Sender
			if err := ns.Do(func() (err error) {
				s, err = loadgen.Dial(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := s.Send(ctx, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != tc.cfg.Count {
				t.Fatalf("sent %d, want %d", res.Sent, tc.cfg.Count)
			}
			if tc.cfg.Rate > 0 {
				if want := time.Duration(float64(tc.cfg.Count-1) / tc.cfg.Rate * float64(time.Second)); res.Duration < want*9/10 {
					t.Errorf("rate-limited send took %v, want at least %v", res.Duration, want)
				}
			}
			receiveAll(t, rfd, tc.cfg)
		})
	}
}

// listen opens a UDP socket on 127.0.0.1 inside ns with a buffer big enough
// for the whole burst, and returns it with its port.
func listen(t *testing.T, ns *netns.NS) (int, uint16) {
	t.Helper()
	var fd int
	var port uint16
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return err
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return err
		}
		port = uint16(sa.(*unix.SockaddrInet4).Port)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, port
}

func receiveAll(t *testing.T, fd int, cfg loadgen.Config) {
	t.Helper()
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, cfg.Count)
	buf := make([]byte, 65536)
	for got := 0; got < cfg.Count; got++ {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			t.Fatalf("received %d of %d: %v", got, cfg.Count, err)
		}
		p := buf[:n]
		if n != cfg.Size {
			t.Fatalf("datagram of %d bytes, want %d", n, cfg.Size)
		}
		seq, _ := loadgen.Seq(p)
		i := seq - cfg.FirstSeq
		if seq < cfg.FirstSeq || i >= uint64(cfg.Count) || seen[i] {
			t.Fatalf("unexpected or duplicate sequence number %d", seq)
		}
		seen[i] = true
		if !loadgen.CheckPattern(p) {
			t.Fatalf("datagram %d: payload pattern mismatch", seq)
		}
	}
}
