//go:build linux

package sandbox

import "syscall"

// supported reports whether Run can work on this operating system.
const supported = true

// sysProcAttr starts the child in its own process group (so the whole group
// can be killed), kills it if r2c dies, and runs it as uid when non-zero.
func sysProcAttr(uid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if uid != 0 {
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}
	}
	return a
}
