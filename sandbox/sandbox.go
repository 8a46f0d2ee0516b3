// Package sandbox runs untrusted programs — Python written by a model — with
// limits and as much isolation as the machine offers.
//
// Every Run gets a fresh temporary directory holding copies of the given
// files (names are checked before anything is written); the program can
// write only there (and, below LevelBubblewrap, to world-writable places
// such as /tmp, cleaned after runs with their own uid), and the directory is
// removed afterwards unless Spec.Keep is set. Wall time, CPU time, address
// space, the size of each file and of all files together, the number of
// files, process count and captured output are limited (DefaultLimits gives
// safe values). The environment is rebuilt from an allow-list, so API keys and
// tokens in r2c's own environment never reach the program.
//
// Isolation comes in three levels, the best available one being used:
//
//   - LevelBubblewrap: bwrap with every namespace unshared (no network, own
//     PID namespace so daemons die with the run), system directories and
//     /dev mounted read-only, the run directory as the only writable place
//     on disk, and /tmp and /dev/shm in bounded memory (Limits.DiskBytes).
//   - LevelNamespaces: unshare(1) with new PID, network, IPC and UTS
//     namespaces; the host file system is visible but protected by the
//     unprivileged uid below.
//   - LevelNone: rlimits and process-group killing only.
//
// When r2c runs as root the program runs under a fresh unprivileged uid
// chosen per run (see Capabilities.ProcessLimit): the kernel ignores
// RLIMIT_NPROC for uid 0, so this is what stops a fork bomb, it makes the
// host's files as unreadable as they are to "nobody", and it lets Run find and
// kill every process of the run, setsid daemons included, at any level.
//
// Only Linux is supported.
package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// Level is how strongly a run is isolated from the host. Levels are ordered:
// a higher level includes the guarantees of the lower ones.
type Level int

// Isolation levels. LevelAuto is the zero value: as Spec.Level it means "the
// best level available", as Spec.MinLevel "no minimum".
const (
	LevelAuto       Level = iota // not a level: best available / no minimum
	LevelNone                    // rlimits and process-group kill only
	LevelNamespaces              // unshare: PID, network, IPC, UTS namespaces
	LevelBubblewrap              // bwrap: all namespaces, read-only system, private /tmp
)

// String returns "none", "namespaces", "bubblewrap" or "auto".
func (l Level) String() string {
	switch l {
	case LevelAuto:
		return "auto"
	case LevelNone:
		return "none"
	case LevelNamespaces:
		return "namespaces"
	case LevelBubblewrap:
		return "bubblewrap"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a name accepted by ParseLevel.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParseLevel parses "none", "namespaces", "bubblewrap" (also "bwrap"), and
// "" or "auto" as LevelAuto — the spelling of config's sandbox.min_isolation.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return LevelAuto, nil
	case "none":
		return LevelNone, nil
	case "namespaces", "unshare":
		return LevelNamespaces, nil
	case "bubblewrap", "bwrap":
		return LevelBubblewrap, nil
	}
	return LevelAuto, fmt.Errorf("sandbox: unknown isolation level %q (use none, namespaces or bubblewrap)", s)
}

// Limits bound one run. A zero field takes its value from DefaultLimits; to
// make a limit effectively unlimited, set it very large.
type Limits struct {
	// Wall is the wall-clock time after which the whole run is killed.
	Wall time.Duration
	// CPU is the CPU time per process (RLIMIT_CPU).
	CPU time.Duration
	// MemoryBytes is the address space per process (RLIMIT_AS).
	MemoryBytes int64
	// FileSizeBytes is the largest file the program may write (RLIMIT_FSIZE).
	FileSizeBytes int64
	// OutputBytes caps what is kept of stdout and of stderr each; a program
	// that prints more is killed and its output ends with TruncationMarker.
	OutputBytes int64
	// Processes is the number of processes and threads the run may have at
	// once (RLIMIT_NPROC under the run's own uid).
	Processes int
	// DiskBytes caps the disk space used by all files in the run directory
	// together (FileSizeBytes only bounds each file), and the size of the
	// private /tmp at LevelBubblewrap. The run directory is measured every
	// diskCheckInterval, and a run over the cap is killed.
	DiskBytes int64
	// Files caps the number of files and directories in the run directory,
	// checked like DiskBytes.
	Files int
}

// DefaultLimits returns the limits used for zero fields: 60 s wall, 60 s CPU,
// 2 GiB address space, 256 MiB per file and 1 GiB in all, 20,000 files,
// 1 MiB of output per stream and 64 processes.
func DefaultLimits() Limits {
	return Limits{
		Wall:          60 * time.Second,
		CPU:           60 * time.Second,
		MemoryBytes:   2 << 30,
		FileSizeBytes: 256 << 20,
		OutputBytes:   1 << 20,
		Processes:     64,
		DiskBytes:     1 << 30,
		Files:         20000,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Wall <= 0 {
		l.Wall = d.Wall
	}
	if l.CPU <= 0 {
		l.CPU = d.CPU
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.FileSizeBytes <= 0 {
		l.FileSizeBytes = d.FileSizeBytes
	}
	if l.OutputBytes <= 0 {
		l.OutputBytes = d.OutputBytes
	}
	if l.Processes <= 0 {
		l.Processes = d.Processes
	}
	if l.DiskBytes <= 0 {
		l.DiskBytes = d.DiskBytes
	}
	if l.Files <= 0 {
		l.Files = d.Files
	}
	return l
}

// Spec describes one run.
type Spec struct {
	// Files are copied into the run directory: relative slash-separated
	// path → content. Paths may not be absolute or contain "..".
	Files map[string][]byte
	// Argv is the program and its arguments; the working directory is the
	// run directory. A relative Argv[0] is looked up in the sandbox's PATH,
	// /usr/local/bin:/usr/bin:/bin. When r2c is root, the program must be
	// executable by other users (not under /root).
	Argv []string
	// Env adds variables to the scrubbed environment (see AllowedEnv); they
	// are passed as given, so never put secrets here.
	Env map[string]string
	// ReadOnly lists extra host directories the program needs to read at
	// LevelBubblewrap, e.g. a virtual environment outside /usr. Python.Dirs
	// gives the ones an interpreter needs.
	ReadOnly []string
	Limits   Limits
	// Level forces an isolation level; LevelAuto uses the best available.
	Level Level
	// MinLevel makes Run fail with ErrIsolation rather than run below it.
	MinLevel Level
	// Keep leaves the run directory in place and reports it in Result.Dir.
	Keep bool
	// Collect names files (relative to the run directory) that are read
	// back after the run into Result.Collected; missing ones are absent.
	// Symbolic links are not followed out of the run directory.
	Collect []string
}

// Result is the outcome of a run that could be started. A program that fails,
// times out or exceeds a limit is a Result, not an error.
type Result struct {
	// ExitCode is the program's exit status; -1 when it was killed by r2c,
	// 128+N when it died of signal N.
	ExitCode int
	// Stdout and Stderr hold at most Limits.OutputBytes each, followed by
	// TruncationMarker when Truncated.
	Stdout, Stderr []byte
	Truncated      bool
	// TimedOut is set when the wall-clock limit killed the run.
	TimedOut bool
	// Killed says why r2c killed the run: "wall time", "output limit",
	// "disk limit", "file count limit", "cancelled", or "" when it ended by
	// itself.
	Killed string
	// Level is the isolation level the run actually had.
	Level Level
	// UID is the unprivileged uid the program ran as (0: it ran as r2c's uid).
	UID      int
	Duration time.Duration
	// Collected holds the Spec.Collect files that existed after the run.
	Collected map[string][]byte
	// Dir is the run directory, set only when Spec.Keep.
	Dir string
}

// TruncationMarker ends captured output that hit Limits.OutputBytes.
const TruncationMarker = "\n[r2c: output truncated: limit reached, program killed]\n"

// Summary is a one-line human description of how the run ended.
func (r *Result) Summary() string {
	switch {
	case r.TimedOut:
		return "killed: wall-clock limit reached"
	case r.Killed != "":
		return "killed: " + r.Killed
	case r.ExitCode == 0:
		return "exited 0"
	case r.ExitCode > 128:
		return fmt.Sprintf("died of signal %d", r.ExitCode-128)
	}
	return fmt.Sprintf("exited %d", r.ExitCode)
}
