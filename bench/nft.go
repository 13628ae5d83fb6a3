//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nflogcap/nflogcap/internal/netns"
)

// ruleset logs every datagram to the bench port to the NFLOG group, counting
// them, and then drops them: with no socket on the port the kernel would
// answer each with an ICMP port-unreachable, which costs the sender's CPU and
// comes back as ECONNREFUSED on its connected socket. Logging happens before
// the verdict, so dropping changes nothing the capture sees.
func ruleset(group int) string {
	return fmt.Sprintf(`table inet bench {
	chain in {
		type filter hook input priority 0;
		udp dport %d counter log prefix "bench" group %d drop
	}
}
`, benchPort, group)
}

var counterRE = regexp.MustCompile(`counter packets (\d+) bytes (\d+)`)

// nftCount reads the rule's counter: the number of packets the kernel logged.
func nftCount(ns *netns.NS) (int64, error) {
	out, err := ns.Output("nft", "list", "chain", "inet", "bench", "in")
	if err != nil {
		return 0, err
	}
	m := counterRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no counter in nft output: %s", bytes.TrimSpace(out))
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// groupState is what the kernel holds for an NFLOG group in a namespace.
type groupState struct {
	bound  bool
	queued int64 // packets in the kernel's pending batch (qlen)
	rmem   int64 // bytes waiting in the bound socket's receive buffer
}

// readGroup reads the group's state from the kernel's own tables. It is tool
// independent: bound says a socket owns the group (a tool that printed its
// banner but has not bound yet would miss packets), and queued and rmem say
// whether the tool still has packets to read.
func readGroup(ns *netns.NS, group int) (groupState, error) {
	var st groupState
	var nflog, netlink []byte
	err := ns.Do(func() error {
		// thread-self, not self: /proc/self/net shows the namespace of the
		// process's main thread, and only this thread has entered ns.
		var err error
		if nflog, err = os.ReadFile("/proc/thread-self/net/netfilter/nfnetlink_log"); err != nil {
			return err
		}
		netlink, err = os.ReadFile("/proc/thread-self/net/netlink")
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil // nfnetlink_log not loaded yet: nothing is bound
	}
	if err != nil {
		return st, fmt.Errorf("read kernel netlink tables in %s: %w", ns.Name, err)
	}
	// nfnetlink_log: group portid qlen copy_mode copy_range flush_timeout refcount
	portid := ""
	for _, f := range fields(nflog) {
		if len(f) >= 3 && f[0] == strconv.Itoa(group) {
			st.bound, portid = true, f[1]
			st.queued, _ = strconv.ParseInt(f[2], 10, 64)
		}
	}
	// netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	for _, f := range fields(netlink) {
		if st.bound && len(f) >= 5 && f[1] == strconv.Itoa(unix.NETLINK_NETFILTER) && f[2] == portid {
			st.rmem, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	return st, nil
}

func fields(b []byte) [][]string {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, strings.Fields(sc.Text()))
	}
	return out
}
