//go:build !linux

package main

import "syscall"

// devServerProcAttr puts the dev server in its own process group. Outside
// Linux there is no parent-death signal, so a killed yst leaves it running.
func devServerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
