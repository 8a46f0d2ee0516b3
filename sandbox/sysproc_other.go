//go:build !linux

package sandbox

import "syscall"

// supported reports whether Run can work on this operating system: the
// isolation tools, prlimit and /proc are Linux's.
const supported = false

func sysProcAttr(uid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if uid != 0 {
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}
	}
	return a
}
