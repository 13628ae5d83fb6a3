//go:build linux

package nflog

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// capNetAdmin is CAP_NET_ADMIN's bit number.
const capNetAdmin = 12

// hasCapNetAdmin reports whether the process has CAP_NET_ADMIN in its
// effective set.
func hasCapNetAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return true // cannot tell; let the kernel's EPERM speak
	}
	return data[0].Effective&(1<<capNetAdmin) != 0
}

// findGroupOwner fills in which netlink port, and which process, owns the
// group, reading /proc from inside the socket's own namespace. It is only
// used to explain an EPERM, so failures leave the fields empty.
func (l *Listener) findGroupOwner(e *GroupInUseError) {
	var nsfd int
	err := l.raw.Control(func(fd uintptr) {
		nsfd, _ = unix.IoctlRetInt(int(fd), unix.SIOCGSKNS)
	})
	if err != nil || nsfd <= 0 {
		return
	}
	defer unix.Close(nsfd)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// This goroutine's thread enters the namespace and is thrown away
		// afterwards (the goroutine exits still locked), so no other
		// goroutine runs in it.
		runtime.LockOSThread()
		if unix.Setns(nsfd, unix.CLONE_NEWNET) != nil {
			return
		}
		e.Port = groupPort("/proc/thread-self/net/netfilter/nfnetlink_log", e.Group)
		if e.Port == 0 {
			return
		}
		if inode := netlinkInode("/proc/thread-self/net/netlink", e.Port); inode != 0 {
			e.PID, e.Comm = socketOwner(inode)
		}
	}()
	<-done
}

// groupPort reads the owner port of group from nfnetlink_log's proc file,
// whose lines are "group portid qlen copy_mode copy_range timeout use".
func groupPort(path string, group int) uint32 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != strconv.Itoa(group) {
			continue
		}
		if port, err := strconv.ParseUint(fields[1], 10, 32); err == nil {
			return uint32(port)
		}
	}
	return 0
}

// netlinkInode finds the inode of the NETLINK_NETFILTER socket with the given
// port in /proc/net/netlink ("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode").
func netlinkInode(path string, port uint32) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[1] != strconv.Itoa(unix.NETLINK_NETFILTER) || fields[2] != strconv.FormatUint(uint64(port), 10) {
			continue
		}
		if inode, err := strconv.ParseUint(fields[9], 10, 64); err == nil {
			return inode
		}
	}
	return 0
}

// socketOwner finds a process with a file descriptor on socket inode.
func socketOwner(inode uint64) (int, string) {
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, _ := os.ReadDir(p + "/fd")
		for _, fd := range fds {
			if target, err := os.Readlink(p + "/fd/" + fd.Name()); err == nil && target == want {
				pid, _ := strconv.Atoi(filepath.Base(p))
				comm, _ := os.ReadFile(p + "/comm")
				return pid, strings.TrimSpace(string(comm))
			}
		}
	}
	return 0, ""
}
