package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print r2c's version and build information",
		run: func(ctx context.Context, s stdio, args []string) int {
			fs := newFlags(s, "r2c version", "", "Prints the version, the Go toolchain and the VCS revision when known.")
			if code, ok := parseFlags(fs, args); !ok {
				return code
			}
			rev := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, kv := range info.Settings {
					if kv.Key == "vcs.revision" {
						rev = kv.Value
					}
				}
			}
			fmt.Fprintf(s.out, "r2c %s (%s, %s/%s, revision %s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, rev)
			return exitOK
		},
	}
}
