//go:build !unix

package lab

import (
	"os"
	"os/exec"
)

func ownProcessGroup(*exec.Cmd) {}

func terminate(pid int) error { return kill(pid) }

func kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
