package nflog

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

var (
	// ErrResyncNeeded is the loss signal: the socket's receive buffer
	// overflowed (ENOBUFS) and the kernel dropped messages. It is not fatal;
	// the next Receive returns the next batch. Errors returned for it are
	// *OverrunError values, which also match syscall.ENOBUFS.
	ErrResyncNeeded = errors.New("nflog: resync needed: the kernel dropped messages (receive buffer overrun, ENOBUFS)")

	// ErrClosed is returned by Receive after Close.
	ErrClosed = errors.New("nflog: listener closed")

	// ErrGroupInUse matches a *GroupInUseError: another socket has the group.
	ErrGroupInUse = errors.New("nflog: group already bound by another socket")

	// ErrPermission: the caller lacks CAP_NET_ADMIN in the namespace.
	ErrPermission = errors.New("nflog: CAP_NET_ADMIN is required to bind an NFLOG group (run as root, or grant it: setcap cap_net_admin+ep BINARY)")

	// ErrNetNSNotFound: the namespace named in Config.NetNS does not exist.
	ErrNetNSNotFound = errors.New("nflog: network namespace not found")

	// ErrNotSupported: the kernel has no NFLOG (nfnetlink_log), or the
	// platform is not Linux.
	ErrNotSupported = errors.New("nflog: NFLOG is not available (kernel needs CONFIG_NETFILTER_NETLINK_LOG / module nfnetlink_log)")
)

// OverrunError is the error Receive returns when the kernel reported ENOBUFS.
// It matches ErrResyncNeeded and syscall.ENOBUFS with errors.Is. The listener
// reuses one value, so copy the fields to keep them.
type OverrunError struct {
	Overruns uint64 // ENOBUFS events so far
	RcvBuf   int    // receive buffer size now, in bytes
	Grown    bool   // the buffer was grown in response to this overrun
}

func (e *OverrunError) Error() string {
	if e.Grown {
		return fmt.Sprintf("%v; receive buffer grown to %d bytes", ErrResyncNeeded, e.RcvBuf)
	}
	return ErrResyncNeeded.Error()
}

func (e *OverrunError) Is(target error) bool { return target == ErrResyncNeeded }
func (e *OverrunError) Unwrap() error        { return syscall.ENOBUFS }

// GroupInUseError says which netlink socket owns the group, from
// /proc/net/netfilter/nfnetlink_log, and when it can be found, which process.
type GroupInUseError struct {
	Group int
	Port  uint32 // netlink port id of the owner; 0 if unknown
	PID   int    // process holding that socket; 0 if unknown
	Comm  string // its command name
}

func (e *GroupInUseError) Error() string {
	msg := fmt.Sprintf("nflog: NFLOG group %d is already bound by another socket", e.Group)
	if e.Port != 0 {
		msg += fmt.Sprintf(" (netlink port %d", e.Port)
		if e.PID != 0 {
			msg += fmt.Sprintf(", process %d %q", e.PID, e.Comm)
		}
		msg += ")"
	}
	return msg + "; stop it or choose another group"
}

func (e *GroupInUseError) Is(target error) bool { return target == ErrGroupInUse }

// Unwrap gives the kernel's answer, EPERM.
func (e *GroupInUseError) Unwrap() error { return syscall.EPERM }

// OpError wraps an error from one step of the listener's work with that step.
type OpError struct {
	Op    string // e.g. "bind group 5000", "set copy mode", "receive"
	Group int
	Err   error
}

func (e *OpError) Error() string {
	// The package's own errors carry the "nflog: " prefix already.
	return "nflog: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "nflog: ")
}
func (e *OpError) Unwrap() error { return e.Err }
