//go:build !unix

package rag

import "os"

// lockDir only creates the folder where flock is not available: concurrent
// updates from two processes are then the user's to avoid.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, os.MkdirAll(dir, 0o755)
}
