package validate

import (
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/sandbox"
)

// LimitsFromConfig converts the [sandbox] settings into sandbox limits. It
// is the one place that knows the units (MiB, KiB) of the configuration, so
// the CLI, the language server and the orchestrator apply the same limits.
// Zero settings stay zero, which the sandbox replaces by its defaults.
func LimitsFromConfig(s config.Sandbox) sandbox.Limits {
	return sandbox.Limits{
		Wall:          s.Timeout.D(),
		CPU:           s.CPU.D(),
		MemoryBytes:   int64(s.MemoryMB) << 20,
		FileSizeBytes: int64(s.FileMB) << 20,
		OutputBytes:   int64(s.OutputKB) << 10,
		Processes:     s.MaxProcesses,
		DiskBytes:     int64(s.DiskMB) << 20,
		Files:         s.MaxFiles,
	}
}
