//go:build unix

package lab

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the proxy in its own process group, so stopping it
// by pid also reaches its workers (nginx forks them).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the proxy's process group (led by pid) to stop.
func terminate(pid int) error { return syscall.Kill(-pid, syscall.SIGTERM) }

// kill stops the proxy's process group (led by pid) at once.
func kill(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
