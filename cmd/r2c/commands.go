package main

// topCommands is the CLI's command table. Each noun lives in its own file
// (style.go, validate.go, ...) and contributes one entry here.
func topCommands() []command {
	return []command{
		versionCommand(),
		styleCommand(),
		validateCommand(),
		doctorCommand(),
		implementCommand(),
		runsCommand(),
		indexCommand(),
		searchCommand(),
		paperCommand(),
		serveCommand(),
	}
}
