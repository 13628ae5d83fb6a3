//go:build !linux

package pcapng

import "runtime"

// HostInfo returns the operating system and machine names where uname(2) is
// not used: Go's names for them.
func HostInfo() (osName, machine string) {
	return runtime.GOOS, runtime.GOARCH
}
