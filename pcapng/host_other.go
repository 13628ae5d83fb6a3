//go:build !linux

package pcapng

import "runtime"

// hostInfo returns the default shb_os and shb_hardware where uname(2) is not
// used: Go's names for the operating system and architecture.
func hostInfo() (osName, machine string) {
	return runtime.GOOS, runtime.GOARCH
}
