package pcapng

import "golang.org/x/sys/unix"

// hostInfo returns the default shb_os ("Linux 6.18.0") and shb_hardware
// ("x86_64") from uname(2); empty strings, which omit the options, if it
// fails.
func hostInfo() (osName, machine string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Machine[:])
}
