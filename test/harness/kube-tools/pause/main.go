// Command pause is PID 1 of every pod sandbox on the harness's real node (the image
// containerd's sandbox_image names), built here so no registry is needed. Like
// registry.k8s.io/pause it sleeps, reaps the zombies it inherits, and exits 0 on SIGTERM or
// SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
