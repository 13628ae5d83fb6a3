//go:build linux

// Package privdrop gives up privileges once the NFLOG groups are bound, as
// tcpdump's -Z does: switch to an unprivileged user and group, and clear every
// capability, so that a bug in the code handling packets and files cannot
// act as root.
package privdrop

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ToUser switches the whole process (all threads) to the named user (or
// numeric uid) and its primary group, with no supplementary groups, then
// clears all capabilities. Files created afterwards belong to that user.
func ToUser(name string) error {
	u, err := lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("-Z %s: bad uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("-Z %s: bad gid %q", name, u.Gid)
	}
	// Order matters: groups and gid need the privilege that setuid gives up.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("-Z %s: setgroups: %w (needs root or CAP_SETGID)", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("-Z %s: setgid %d: %w", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("-Z %s: setuid %d: %w (needs root or CAP_SETUID)", name, uid, err)
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return fmt.Errorf("-Z %s: could regain root after dropping privileges", name)
	}
	return DropCapabilities()
}

func lookup(name string) (*user.User, error) {
	u, err := user.Lookup(name)
	if err == nil {
		return u, nil
	}
	if _, nerr := strconv.Atoi(name); nerr == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("-Z %s: no such user (want a user name or uid from /etc/passwd)", name)
}

// DropCapabilities clears the effective, permitted and inheritable sets of
// every thread and the ambient set, so a process that got CAP_NET_ADMIN from
// a file capability keeps it no longer than the bind needs.
func DropCapabilities() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("drop capabilities: clear ambient set: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	// capset applies to the calling thread only; AllThreadsSyscall runs it
	// on every thread of the process (Go 1.16+, without cgo).
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_CAPSET,
		uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if errno == syscall.ENOTSUP {
		// cgo builds cannot use AllThreadsSyscall: fall back to this thread,
		// which Go then keeps for this goroutine only.
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("drop capabilities: %w", err)
		}
		return nil
	}
	if errno != 0 {
		return fmt.Errorf("drop capabilities: capset: %w", errno)
	}
	return nil
}

// Effective reports whether the process currently holds capability bit c in
// its effective set.
func Effective(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: int32(os.Getpid())}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
