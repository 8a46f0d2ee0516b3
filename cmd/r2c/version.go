package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildInfo is what r2c version prints.
type buildInfo struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Revision string `json:"revision"`
}

func currentBuild() buildInfo {
	rev := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range info.Settings {
			if kv.Key == "vcs.revision" {
				rev = kv.Value
			}
		}
	}
	return buildInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Revision: rev}
}

func versionString() string {
	b := currentBuild()
	return fmt.Sprintf("r2c %s (%s, %s, revision %s)", b.Version, b.Go, b.Platform, b.Revision)
}

func versionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "print r2c's version and build information",
		Long:    "Prints the version, the Go toolchain and the VCS revision when known (r2c --version prints the same line).",
		Example: "  r2c version\n  r2c version --json",
		Args:    noArgs("version"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := streams(cmd)
			if asJSON {
				return writeJSON(s.out, "version", currentBuild())
			}
			fmt.Fprintln(s.out, versionString())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the build information as JSON")
	return cmd
}
