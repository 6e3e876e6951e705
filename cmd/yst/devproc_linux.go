package main

import "syscall"

// devServerProcAttr puts the dev server in its own process group and has
// the kernel send it SIGTERM when yst dies, so no server is left behind.
func devServerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
