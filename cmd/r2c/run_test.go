package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI drives the CLI in-process exactly as main does.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), strings.NewReader(""), &out, &errb, args)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "r2c ") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	_, errOut, code := runCLI(t, "frobnicate")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}

func TestNoArgsPrintsCommands(t *testing.T) {
	_, errOut, code := runCLI(t)
	if code != exitUsage || !strings.Contains(errOut, "version") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	var walk func(prefix []string, cmds []command)
	walk = func(prefix []string, cmds []command) {
		for _, c := range cmds {
			args := append(append([]string{}, prefix...), c.name)
			if c.sub != nil {
				walk(args, c.sub)
				continue
			}
			_, errOut, code := runCLI(t, append(args, "--help")...)
			if code != exitOK || !strings.Contains(errOut, "usage: r2c") {
				t.Errorf("%v --help: code %d, stderr %q", args, code, errOut)
			}
		}
	}
	walk(nil, topCommands())
}
