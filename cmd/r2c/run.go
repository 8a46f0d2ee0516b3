package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0 // success, or every check passed
	exitFail  = 1 // the command ran and a check failed
	exitUsage = 2 // bad usage or a broken environment
)

// stdio carries the process's streams so the whole CLI can be driven from tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// errorf prints "r2c: ..." to stderr and returns code.
func (s stdio) errorf(code int, format string, args ...any) int {
	fmt.Fprintf(s.err, "r2c: "+format+"\n", args...)
	return code
}

// command is one entry of a command table: a noun with verbs (sub != nil) or
// a leaf that runs.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, s stdio, args []string) int
	sub     []command
}

// run is the whole CLI: main only wires the process to it.
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	return dispatch(ctx, stdio{stdin, stdout, stderr}, "r2c", topCommands(), args)
}

func dispatch(ctx context.Context, s stdio, prefix string, cmds []command, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printCommands(s.err, prefix, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.sub != nil {
			return dispatch(ctx, s, prefix+" "+c.name, c.sub, args[1:])
		}
		return c.run(ctx, s, args[1:])
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	return s.errorf(exitUsage, "unknown command %q for %s (one of: %s; see %s --help)", args[0], prefix, strings.Join(names, ", "), prefix)
}

func printCommands(w io.Writer, prefix string, cmds []command) {
	fmt.Fprintf(w, "usage: %s <command> [flags] [args]\n\ncommands:\n", prefix)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", prefix)
}

// newFlags makes a FlagSet for a leaf command whose --help prints usage,
// a one-paragraph description and the flags to stderr.
func newFlags(s stdio, name, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() {
		fmt.Fprintf(s.err, "usage: %s %s\n\n%s\n", name, usage, description)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(s.err, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args and maps the outcome to an exit code: ok is false
// when the caller should return code at once (after --help or a bad flag).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK, false
	}
	if err != nil {
		return exitUsage, false
	}
	return exitOK, true
}
