package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The README's command reference is the cobra tree, printed: every
// command with its usage line, flags and examples. When a command or flag
// changes, regenerate it with
//
//	R2C_UPDATE_README=1 go test ./cmd/r2c -run TestREADMECommandReference
const (
	readmePath  = "../../README.md"
	refBegin    = "<!-- command reference: generated from the cobra tree by R2C_UPDATE_README=1 go test ./cmd/r2c -run TestREADMECommandReference -->\n"
	refEnd      = "<!-- end of command reference -->\n"
	refHeadings = "#### "
)

func TestREADMECommandReference(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, refBegin), strings.Index(readme, refEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the command reference markers %q ... %q", refBegin, refEnd)
	}
	want := commandReference(rootCommand())
	got := readme[i+len(refBegin) : j]
	if got != want {
		if os.Getenv("R2C_UPDATE_README") != "" {
			if err := os.WriteFile(readmePath, []byte(readme[:i+len(refBegin)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's command reference differs from the commands; regenerate it with\n"+
			"R2C_UPDATE_README=1 go test ./cmd/r2c -run TestREADMECommandReference\n%s", firstDifference(got, want))
	}
	// The overview table names every top-level command too.
	table := readme[:i]
	for _, c := range rootCommand().Commands() {
		if c.IsAvailableCommand() && !regexp.MustCompile("`r2c "+regexp.QuoteMeta(c.Name())+`\b`).MatchString(table) {
			t.Errorf("the README's command table does not name r2c %s", c.Name())
		}
	}
}

// commandReference prints every command users see: its usage line, what
// it does, its flags and its examples.
func commandReference(root *cobra.Command) string {
	var b strings.Builder
	walkCommands(root, nil, func(c *cobra.Command, _ []string) {
		if c == root || (c.HasAvailableSubCommands() && c != root) {
			return // nouns only group their verbs
		}
		fmt.Fprintf(&b, "\n%s`%s`\n\n%s.\n\n```text\n", refHeadings, c.CommandPath(), upperFirst(c.Short))
		fmt.Fprintf(&b, "usage: %s\n", c.UseLine())
		if flags := visibleFlags(c); flags != "" {
			fmt.Fprintf(&b, "\nflags:\n%s", flags)
		}
		fmt.Fprintf(&b, "\nexamples:\n%s\n```\n", c.Example)
	})
	return b.String()
}

// visibleFlags is the command's own flags as --help lists them, without
// --help itself.
func visibleFlags(c *cobra.Command) string {
	fs := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "version" {
			fs.AddFlag(f)
		}
	})
	return fs.FlagUsagesWrapped(0)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < len(g) || k < len(w); k++ {
		var gl, wl string
		if k < len(g) {
			gl = g[k]
		}
		if k < len(w) {
			wl = w[k]
		}
		if gl != wl {
			return fmt.Sprintf("line %d of the reference:\n README: %q\n  wants: %q", k+1, gl, wl)
		}
	}
	return ""
}
