//go:build linux

package nflog_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nflogcap/nflogcap/internal/netns"
	"github.com/nflogcap/nflogcap/internal/netns/nstest"
	"github.com/nflogcap/nflogcap/nflog"
)

// testGroup is the group the integration tests bind inside their own
// namespaces; it cannot collide with the host's.
const testGroup = 5000

// logRuleset logs UDP to port 9999 (input hook, prefix "in") and to port 9998
// (output hook, prefix "out"), IPv4 and IPv6, to group, and counts them.
func logRuleset(group int) string {
	return fmt.Sprintf(`
table inet nflogtest {
	counter logged_in {}
	counter logged_out {}
	chain in {
		type filter hook input priority 0;
		udp dport 9999 counter name logged_in log prefix "in" group %[1]d
	}
	chain out {
		type filter hook output priority 0;
		udp dport 9998 counter name logged_out meta mark set 0x2a log prefix "out" group %[1]d
	}
}`, group)
}

// newLoggingNS returns a namespace with logRuleset loaded.
func newLoggingNS(t *testing.T) *netns.NS {
	t.Helper()
	ns := nstest.New(t)
	if err := ns.Nft(logRuleset(testGroup)); err != nil {
		t.Fatal(err)
	}
	return ns
}

// sender sends UDP datagrams from inside a namespace. The socket is
// unconnected so ICMP port-unreachable answers do not fail later sends.
type sender struct {
	conn *net.UDPConn
}

func newSender(t *testing.T, ns *netns.NS, network string) *sender {
	t.Helper()
	var s sender
	err := ns.Do(func() error {
		c, err := net.ListenUDP(network, nil)
		s.conn = c
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.conn.Close() })
	return &s
}

// send sends n datagrams of size bytes to addr; each starts with its index.
func (s *sender) send(t *testing.T, addr string, n, size int) [][]byte {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var sent [][]byte
	for i := range n {
		b := bytes.Repeat([]byte{byte(i)}, size)
		copy(b, fmt.Sprintf("%08d", i))
		if _, err := s.conn.WriteToUDP(b, ua); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		sent = append(sent, b)
	}
	return sent
}

// listen binds testGroup in ns with cfg (Group and NetNS filled in).
func listen(t *testing.T, ns *netns.NS, cfg nflog.Config) *nflog.Listener {
	t.Helper()
	cfg.Group = testGroup
	cfg.NetNS = ns.Path
	l, err := nflog.Listen(&cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// receiveN receives until n events arrived (copying them), failing after
// the timeout.
func receiveN(t *testing.T, l *nflog.Listener, n int, timeout time.Duration) []nflog.Event {
	t.Helper()
	var got []nflog.Event
	deadline := time.Now().Add(timeout)
	for len(got) < n {
		if err := l.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		evs, err := l.Receive()
		if err != nil {
			t.Fatalf("Receive after %d of %d events: %v", len(got), n, err)
		}
		for _, ev := range evs {
			got = append(got, cloneEvent(ev))
		}
	}
	l.SetReadDeadline(time.Time{})
	return got
}

// cloneEvent copies the byte slices out of the listener's buffer.
func cloneEvent(ev nflog.Event) nflog.Event {
	c := ev
	for _, p := range []*[]byte{&c.HWAddr, &c.HWHeader, &c.Prefix, &c.Payload, &c.CT, &c.L2Header, &c.Raw} {
		if *p != nil {
			*p = bytes.Clone(*p)
		}
	}
	return c
}

// nftCounter reads a named counter's packet count.
func nftCounter(t *testing.T, ns *netns.NS, name string) int {
	t.Helper()
	out, err := ns.Output("nft", "list", "counter", "inet", "nflogtest", name)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "packets" && i+1 < len(f) {
			n, err := strconv.Atoi(f[i+1])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no packet count in %q", out)
	return 0
}

// boundGroups lists the groups in a namespace's /proc/net/netfilter/nfnetlink_log,
// mapped to their owner port.
func boundGroups(t *testing.T, ns *netns.NS) map[int]uint32 {
	t.Helper()
	var out []byte
	var err error
	if ns == nil {
		out, err = os.ReadFile("/proc/net/netfilter/nfnetlink_log")
	} else {
		out, err = ns.Output("cat", "/proc/net/netfilter/nfnetlink_log")
	}
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int]uint32{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		g, _ := strconv.Atoi(f[0])
		p, _ := strconv.ParseUint(f[1], 10, 32)
		groups[g] = uint32(p)
	}
	return groups
}

// waitCounter waits until the named counter reaches n: loopback traffic is
// logged in softirq context, possibly after the send returned.
func waitCounter(t *testing.T, ns *netns.NS, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := nftCounter(t, ns, name)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter %s at %d, want %d", name, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// netlinkDrops reads the drop counter of the netlink socket with the given
// port from the namespace's /proc/net/netlink: the messages the kernel could
// not queue on it ("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode").
func netlinkDrops(t *testing.T, ns *netns.NS, port uint32) uint64 {
	t.Helper()
	out, err := ns.Output("cat", "/proc/net/netlink")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[1] != "12" || f[2] != strconv.FormatUint(uint64(port), 10) {
			continue // 12: NETLINK_NETFILTER
		}
		n, err := strconv.ParseUint(f[8], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Fatalf("no netlink socket with port %d in\n%s", port, out)
	return 0
}

// nflogInstance is a group's line in /proc/net/netfilter/nfnetlink_log:
// "group portid qlen copy_mode copy_range flushtimeout use".
type nflogInstance struct {
	port                uint32
	copyMode, copyRange int
	flushTimeout        int // in 10 ms units
}

func groupInstance(t *testing.T, ns *netns.NS, group int) nflogInstance {
	t.Helper()
	out, err := ns.Output("cat", "/proc/net/netfilter/nfnetlink_log")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] != strconv.Itoa(group) {
			continue
		}
		var v [5]int
		for i := range v {
			if v[i], err = strconv.Atoi(f[i+1]); err != nil {
				t.Fatalf("nfnetlink_log line %q: %v", sc.Text(), err)
			}
		}
		return nflogInstance{port: uint32(v[0]), copyMode: v[2], copyRange: v[3], flushTimeout: v[4]}
	}
	t.Fatalf("group %d not in nfnetlink_log:\n%s", group, out)
	return nflogInstance{}
}
