package main

import "github.com/spf13/cobra"

// topCommands is the CLI's command tree below r2c. Each noun lives in its
// own file (style.go, validate.go, ...) as a function returning its
// *cobra.Command; add a command by adding its function here. Every command
// has an Example, takes its streams from streams(cmd), and returns nil,
// failf (exit 1), envf or usagef (exit 2), or exitCode after reporting
// itself.
func topCommands() []*cobra.Command {
	return []*cobra.Command{
		versionCommand(),
		styleCommand(),
		validateCommand(),
		doctorCommand(),
		implementCommand(),
		runsCommand(),
		indexCommand(),
		searchCommand(),
		paperCommand(),
		evalCommand(),
		trainCommand(),
		serveCommand(),
		apiCommand(),
		statsCommand(),
		completionCommand(),
	}
}
