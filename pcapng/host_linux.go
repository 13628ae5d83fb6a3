package pcapng

import "golang.org/x/sys/unix"

// HostInfo returns this host's operating system name and release ("Linux
// 6.18.0") and machine type ("x86_64") from uname(2), as the Writer puts them
// in shb_os and shb_hardware by default and callers may put them in if_os;
// empty strings, which omit the options, if uname fails.
func HostInfo() (osName, machine string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Machine[:])
}
