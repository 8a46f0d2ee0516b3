package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// LevelStatus says whether one isolation level works here, and if not, why
// and what would fix it.
type LevelStatus struct {
	Level     Level  `json:"level"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	Fix       string `json:"fix,omitempty"`
}

// Capabilities is what this machine offers for sandboxing.
type Capabilities struct {
	// Best is the strongest level whose probe run succeeded.
	Best Level `json:"best"`
	// Levels holds none, namespaces and bubblewrap, in that order.
	Levels []LevelStatus `json:"levels"`
	// Root is true when r2c runs as uid 0; runs then get their own
	// unprivileged uid.
	Root bool `json:"root"`
	// ProcessLimit says how a fork bomb is stopped.
	ProcessLimit string `json:"process_limit"`
	// Tool paths; empty when not found.
	Bwrap   string `json:"bwrap,omitempty"`
	Unshare string `json:"unshare,omitempty"`
	Prlimit string `json:"prlimit,omitempty"`
	// BwrapTmpfsSize is true when bwrap can bound the size of the private
	// /tmp (Limits.DiskBytes).
	BwrapTmpfsSize bool `json:"bwrap_tmpfs_size,omitempty"`
}

func (c Capabilities) status(l Level) LevelStatus {
	for _, s := range c.Levels {
		if s.Level == l {
			return s
		}
	}
	return LevelStatus{Level: l, Reason: "unknown level", Fix: "use none, namespaces or bubblewrap"}
}

var (
	detectOnce sync.Once
	detected   Capabilities
)

// Detect probes, once per process, which isolation levels work by running a
// trivial program at each, and reports why the others do not. The probes
// take a few milliseconds.
func Detect() Capabilities {
	detectOnce.Do(func() { detected = probe() })
	return detected
}

func probe() Capabilities {
	caps := Capabilities{Root: os.Geteuid() == 0}
	// The tools run as the run's unprivileged uid when r2c is root, so one
	// found in a private directory (say /root/bin) is as good as missing.
	tool := func(name, pkg string) (path, reason, fix string) {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", name + " not found", "apt-get install " + pkg
		}
		if caps.Root {
			if err := othersCanExec(p); err != nil {
				return "", fmt.Sprintf("%s at %s cannot be run by the run's unprivileged uid: %v", name, p, err),
					"put a world-executable " + name + " first on PATH, e.g. apt-get install " + pkg + " (/usr/bin)"
			}
		}
		return p, "", ""
	}
	var bwrapWhy, bwrapFix, unshareWhy, unshareFix, prlimitWhy, prlimitFix string
	caps.Bwrap, bwrapWhy, bwrapFix = tool("bwrap", "bubblewrap")
	caps.Unshare, unshareWhy, unshareFix = tool("unshare", "util-linux")
	caps.Prlimit, prlimitWhy, prlimitFix = tool("prlimit", "util-linux")
	if caps.Bwrap != "" {
		// --size (bubblewrap 0.8) bounds the private /tmp; older versions
		// lack it and get an unbounded one rather than no bwrap level.
		help, _ := exec.Command(caps.Bwrap, "--help").CombinedOutput()
		caps.BwrapTmpfsSize = strings.Contains(string(help), "--size")
	}
	if caps.Root {
		caps.ProcessLimit = fmt.Sprintf("each run gets its own unprivileged uid (%d and up) with RLIMIT_NPROC; every process of that uid is killed when the run ends", uidBase)
	} else {
		caps.ProcessLimit = "RLIMIT_NPROC of the calling user, set to its current process count plus the limit; daemons that leave the process group survive at level none"
	}
	// The probe program is found as Run finds programs: on the sandbox's
	// own PATH, not the caller's.
	truePath, err := lookSandboxPath("true")
	if err != nil {
		truePath = "/bin/true"
	}

	try := func(l Level) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := run(ctx, Spec{Argv: []string{truePath}, Limits: Limits{Wall: 10 * time.Second}}, l, caps)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("probe %s: %s: %s", l, res.Summary(), strings.TrimSpace(string(res.Stderr)))
		}
		return nil
	}

	none := LevelStatus{Level: LevelNone}
	if !supported {
		none.Reason, none.Fix = "the sandbox needs Linux (prlimit, namespaces, /proc)", "run r2c on Linux, e.g. in a container"
	} else if caps.Prlimit == "" {
		none.Reason, none.Fix = prlimitWhy, prlimitFix
	} else if err := try(LevelNone); err != nil {
		none.Reason, none.Fix = err.Error(), "check that /tmp is writable and prlimit works"
	} else {
		none.Available = true
	}

	ns := LevelStatus{Level: LevelNamespaces}
	switch {
	case !none.Available:
		ns.Reason, ns.Fix = "level none does not work", none.Fix
	case caps.Unshare == "":
		ns.Reason, ns.Fix = unshareWhy, unshareFix
	default:
		if err := try(LevelNamespaces); err != nil {
			ns.Reason = "unshare cannot create user, PID and network namespaces: " + err.Error()
			ns.Fix = "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0), or run the container with --privileged or a seccomp profile that allows unshare"
		} else {
			ns.Available = true
		}
	}

	bw := LevelStatus{Level: LevelBubblewrap}
	switch {
	case !none.Available:
		bw.Reason, bw.Fix = "level none does not work", none.Fix
	case caps.Bwrap == "":
		bw.Reason, bw.Fix = bwrapWhy, bwrapFix
	default:
		if err := try(LevelBubblewrap); err != nil {
			bw.Reason = "bwrap cannot create its namespaces: " + err.Error()
			bw.Fix = "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0) or, in a container, a seccomp/AppArmor profile that allows them"
		} else {
			bw.Available = true
		}
	}

	caps.Levels = []LevelStatus{none, ns, bw}
	for _, s := range caps.Levels {
		if s.Available {
			caps.Best = s.Level
		}
	}
	return caps
}
