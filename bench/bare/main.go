//go:build linux

// Command bare is the benchmark's yardstick: it binds an NFLOG group with a raw
// netlink socket, reads and discards, and counts packet messages and SEQ gaps.
// It does what a capture tool must do at the least, so the harness can show how
// close a real tool gets. It prints "listening on" to stderr once bound, and on
// SIGINT or SIGTERM unbinds (the kernel flushes its pending batch), drains and
// prints one line the harness parses:
//
//	bare: N packets received, M packets lost (seq gaps), E ENOBUFS, D datagrams, B bytes
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run() error {
	group := flag.Uint("g", 5000, "NFLOG group")
	rcvbuf := flag.Int("rcvbuf", 32<<20, "socket receive buffer, bytes (SO_RCVBUFFORCE)")
	nlbufsiz := flag.Uint("nlbufsiz", 131072, "kernel batch buffer size, bytes (NFULA_CFG_NLBUFSIZ)")
	qthresh := flag.Uint("qthresh", 1024, "packets per kernel batch (NFULA_CFG_QTHRESH); nflogcap's default, so the limit is measured with the same kernel batching")
	timeout := flag.Uint("timeout", 1, "kernel batch flush timeout, 1/100 s (NFULA_CFG_TIMEOUT); nflogcap's default 10 ms")
	bufsize := flag.Int("bufsize", 1<<20, "read buffer size, bytes")
	flag.Parse()
	if *group > 0xffff {
		return fmt.Errorf("group %d out of range", *group)
	}
	s := settings{group: uint16(*group), nlbufsiz: uint32(*nlbufsiz), qthresh: uint32(*qthresh), timeout: uint32(*timeout)}

	fd, err := open(s, *rcvbuf)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	got, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	fmt.Fprintf(os.Stderr, "listening on nflog:%d (bare reader, rcvbuf %d, nlbufsiz %d, qthresh %d, timeout %d)\n",
		s.group, got, s.nlbufsiz, s.qthresh, s.timeout)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var stopping atomic.Bool
	go func() { <-ctx.Done(); stopping.Store(true) }()

	var c counts
	err = readLoop(fd, s.group, &c, &stopping, make([]byte, *bufsize))
	fmt.Fprintf(os.Stderr, "bare: %d packets received, %d packets lost (seq gaps), %d ENOBUFS, %d datagrams, %d bytes\n",
		c.packets, c.lost, c.enobufs, c.datagrams, c.bytes)
	if c.noSeq > 0 || c.backwards > 0 {
		fmt.Fprintf(os.Stderr, "bare: %d packets without SEQ, %d with SEQ going backwards\n", c.noSeq, c.backwards)
	}
	return err
}

// pollInterval bounds how long a blocked read delays noticing a signal; reads
// block in the kernel, where Go's signal handling cannot interrupt them.
const pollInterval = 100 * time.Millisecond

// open creates the socket, sizes its buffer and binds the group with one config message.
func open(s settings, rcvbuf int) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := setup(fd, s, rcvbuf); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func setup(fd int, s settings, rcvbuf int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf); err != nil {
		return fmt.Errorf("SO_RCVBUFFORCE %d: %w", rcvbuf, err)
	}
	tv := unix.NsecToTimeval(pollInterval.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind netlink: %w", err)
	}
	if err := unix.Sendto(fd, bindMessage(s, 1), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("send config: %w", err)
	}
	// The ACK comes before any packet: nothing is logged to the group until the bind is done.
	buf := make([]byte, 8192)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return fmt.Errorf("read config ack: %w", err)
	}
	var c counts
	if err := c.parse(buf[:n]); err != nil {
		return fmt.Errorf("bind group %d: %w", s.group, err)
	}
	return nil
}

// readLoop reads until stopping is set, then unbinds so the kernel flushes its
// pending batch, and reads until the socket stays empty for one poll interval.
func readLoop(fd int, group uint16, c *counts, stopping *atomic.Bool, buf []byte) error {
	draining := false
	for {
		if !draining && stopping.Load() {
			draining = true
			if err := unix.Sendto(fd, unbindMessage(group, 2), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
				return fmt.Errorf("send unbind: %w", err)
			}
		}
		n, err := unix.Read(fd, buf)
		switch {
		case err == nil:
			if err := c.parse(buf[:n]); err != nil {
				return err
			}
		case errors.Is(err, unix.ENOBUFS):
			c.enobufs++ // the batch is gone; SEQ gaps count its packets
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			if draining {
				return nil
			}
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}
