//go:build linux && !cgo

package privdrop

import "syscall"

// cgoAllThreads is not needed without cgo: syscall.AllThreadsSyscall works.
func cgoAllThreads(trap, a1, a2, a3 uintptr) error { return syscall.ENOTSUP }
