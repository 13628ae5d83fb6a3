//go:build linux

// Package privdrop gives up privileges once the NFLOG groups are bound, as
// tcpdump's -Z does: switch to an unprivileged user and group, and clear every
// capability, so that a bug in the code handling packets and files cannot
// act as root; and make sure no program it runs afterwards (-z) can gain
// privileges again.
package privdrop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ToUser switches the whole process (all threads) to the named user (or
// numeric uid) and its primary group, with no supplementary groups, then
// clears all capabilities. Before that, while still privileged, it sets
// no_new_privs and empties the capability bounding set, so programs run
// afterwards (-z) cannot regain privileges through a set-user-ID or
// file-capability binary. Files created afterwards belong to that user.
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
	// Order matters: the bounding set (CAP_SETPCAP), groups and gid need
	// the privilege that setuid gives up.
	if err := NoNewPrivileges(); err != nil {
		return fmt.Errorf("-Z %s: %w", name, err)
	}
	if err := DropBoundingSet(); err != nil {
		return fmt.Errorf("-Z %s: %w", name, err)
	}
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
	if err := DropCapabilities(); err != nil {
		return err
	}
	if err := checkThreads(); err != nil {
		return fmt.Errorf("-Z %s: %w", name, err)
	}
	return nil
}

// allThreads makes a system call on every thread of the process: with
// syscall.AllThreadsSyscall, or where cgo is linked (the default build: os/user
// and net use it), which that refuses, with cgoAllThreads.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return cgoAllThreads(trap, a1, a2, a3)
	}
	return errno
}

// NoNewPrivileges sets no_new_privs on every thread: programs the process
// runs from now on, and theirs, never gain privileges from a set-user-ID or
// set-group-ID bit or from file capabilities. It cannot be undone.
func NoNewPrivileges() error {
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// DropBoundingSet removes every capability from the bounding set of every
// thread, so that no program run later gets one back, even as root. It
// needs CAP_SETPCAP, unless the set is already empty.
func DropBoundingSet() error {
	for c := 0; ; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			return nil // past the last capability this kernel knows
		}
		if err != nil {
			return fmt.Errorf("read the capability bounding set: %w", err)
		}
		if in == 0 {
			continue
		}
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w (needs CAP_SETPCAP)", c, err)
		}
	}
}

// checkThreads reads back what the kernel says of every thread: no
// capabilities, an empty bounding set, no_new_privs. Without /proc there is
// nothing to read and it returns nil.
func checkThreads() error {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return nil
	}
	want := map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000",
		"CapBnd": "0000000000000000", "NoNewPrivs": "1"}
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // a thread that just ended
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			k, v, ok := bytes.Cut(line, []byte(":"))
			if w, check := want[string(k)]; ok && check && string(bytes.TrimSpace(v)) != w {
				return fmt.Errorf("thread %s still has %s %s after dropping privileges", filepath.Base(filepath.Dir(path)), k, bytes.TrimSpace(v))
			}
		}
	}
	return nil
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
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{}
	// capset applies to the calling thread only: allThreads runs it on each.
	err := allThreads(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(data)
	if err != nil {
		return fmt.Errorf("drop capabilities: capset: %w", err)
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
