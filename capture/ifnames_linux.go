//go:build linux

package capture

import (
	"encoding/binary"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/nflogcap/nflogcap/internal/escape"
	"golang.org/x/sys/unix"
)

// missRefreshInterval rate-limits the dumps an unknown index triggers, so a
// packet naming a vanished interface cannot cause a syscall per packet.
const missRefreshInterval = time.Second

// ifNames resolves interface indexes to names in the capture's namespace.
// Lookups read an immutable map through an atomic pointer (no lock, no
// allocation); a watcher goroutine applies link notifications (new,
// renamed, deleted interfaces), and an unknown index triggers a full dump
// at most once per missRefreshInterval.
type ifNames struct {
	names    atomic.Pointer[map[uint32]string]
	mu       sync.Mutex // serializes map replacement and dumps
	dump     *netlink.Conn
	watch    *netlink.Conn
	lastMiss atomic.Int64 // unix ns of the last miss-triggered dump
	done     chan struct{}
	misses   atomic.Uint64
	gen      atomic.Uint64 // bumped at every change of names
}

func (n *ifNames) generation() uint64 { return n.gen.Load() }

// newIfNames opens route sockets in the namespace netnsFD (0: the caller's)
// and loads the current interfaces. Close stops the watcher.
func newIfNames(netnsFD int) (*ifNames, error) {
	dump, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netnsFD})
	if err != nil {
		return nil, err
	}
	watch, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netnsFD, Groups: unix.RTMGRP_LINK})
	if err != nil {
		dump.Close()
		return nil, err
	}
	n := &ifNames{dump: dump, watch: watch, done: make(chan struct{})}
	if err := n.refresh(); err != nil {
		watch.Close()
		dump.Close()
		return nil, err
	}
	go n.watchLinks()
	return n, nil
}

// lookup returns the (escaped) name of interface idx; ok is false when the namespace
// has no such interface (any more).
func (n *ifNames) lookup(idx uint32) (string, bool) {
	if name, ok := (*n.names.Load())[idx]; ok {
		return name, true
	}
	now := time.Now().UnixNano()
	if last := n.lastMiss.Load(); now-last >= int64(missRefreshInterval) && n.lastMiss.CompareAndSwap(last, now) {
		n.misses.Add(1)
		n.refresh()
		name, ok := (*n.names.Load())[idx]
		return name, ok
	}
	return "", false
}

// refresh replaces the map with a full RTM_GETLINK dump.
func (n *ifNames) refresh() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	msgs, err := n.dump.Execute(netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	})
	if err != nil {
		return err
	}
	m := make(map[uint32]string, len(msgs))
	for _, msg := range msgs {
		if idx, name, ok := parseLink(msg.Data); ok {
			m[idx] = name
		}
	}
	n.names.Store(&m)
	n.gen.Add(1)
	return nil
}

// watchLinks applies link notifications until the watch socket is closed.
func (n *ifNames) watchLinks() {
	defer close(n.done)
	for {
		msgs, err := n.watch.Receive()
		if err != nil {
			if isClosed(err) {
				return
			}
			// An overrun lost notifications: start over from a dump.
			n.refresh()
			continue
		}
		n.mu.Lock()
		m := maps.Clone(*n.names.Load())
		for _, msg := range msgs {
			idx, name, ok := parseLink(msg.Data)
			if !ok {
				continue
			}
			switch msg.Header.Type {
			case unix.RTM_NEWLINK:
				m[idx] = name
			case unix.RTM_DELLINK:
				delete(m, idx)
			}
		}
		n.names.Store(&m)
		n.gen.Add(1)
		n.mu.Unlock()
	}
}

func (n *ifNames) close() {
	n.watch.Close()
	n.dump.Close()
	select {
	case <-n.done:
	case <-time.After(time.Second):
	}
}

// parseLink reads the index and IFLA_IFNAME of an RTM_*LINK message.
func parseLink(b []byte) (uint32, string, bool) {
	if len(b) < unix.SizeofIfInfomsg {
		return 0, "", false
	}
	idx := binary.NativeEndian.Uint32(b[4:])
	ad, err := netlink.NewAttributeDecoder(b[unix.SizeofIfInfomsg:])
	if err != nil {
		return 0, "", false
	}
	for ad.Next() {
		if ad.Type() == unix.IFLA_IFNAME {
			// Stored escaped: names go into comments and terminals as is.
			return idx, escape.String([]byte(ad.String())), true
		}
	}
	return 0, "", false
}
