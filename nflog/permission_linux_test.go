//go:build linux

package nflog

import (
	"errors"
	"syscall"
	"testing"
)

// An EPERM is "group in use" only when another socket is seen owning the
// group; everything else is a permission error that still matches EPERM.
func TestPermissionError(t *testing.T) {
	const self = 100
	tests := []struct {
		name   string
		hasCap bool
		owner  *GroupInUseError
		inUse  bool
	}{
		{"no capability", false, nil, false},
		{"pf-bind step, owner not looked up", true, nil, false},
		{"no owner in proc (capability in own user namespace)", true, &GroupInUseError{Group: 5000}, false},
		{"owner is this socket", true, &GroupInUseError{Group: 5000, Port: self}, false},
		{"another socket owns it", true, &GroupInUseError{Group: 5000, Port: 7, PID: 42}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := &OpError{Op: "bind group 5000", Group: 5000, Err: syscall.EPERM}
			err := permissionError(op, tt.hasCap, tt.owner, self)
			if got := errors.Is(err, ErrGroupInUse); got != tt.inUse {
				t.Errorf("%v: matches ErrGroupInUse %v, want %v", err, got, tt.inUse)
			}
			if got := errors.Is(err, ErrPermission); got == tt.inUse {
				t.Errorf("%v: matches ErrPermission %v, want %v", err, got, !tt.inUse)
			}
			if !errors.Is(err, syscall.EPERM) {
				t.Errorf("%v does not match EPERM", err)
			}
			if tt.inUse && err != error(tt.owner) {
				t.Errorf("got %#v, want the owner %#v", err, tt.owner)
			}
		})
	}
}
