package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK    = 0 // success, or every check passed
	exitFail  = 1 // the command ran and a check failed
	exitUsage = 2 // bad usage or a broken environment
)

// stdio carries the process's streams so the whole CLI can be driven from
// tests; every command takes them from its cobra.Command (streams).
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// streams returns the streams run gave the command tree.
func streams(cmd *cobra.Command) stdio {
	return stdio{cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()}
}

// errorf prints "r2c: ..." to stderr and returns code, for commands that
// report a problem and carry on (style check over several files).
func (s stdio) errorf(code int, format string, args ...any) int {
	fmt.Fprintf(s.err, "r2c: "+format+"\n", args...)
	return code
}

// exitError carries a command's exit code and message to run, which prints
// the message once as "r2c: ..." on stderr. A nil err means the command has
// already said everything (its report is the output) and only the code
// matters.
type exitError struct {
	code  int
	err   error
	usage bool // the arguments were wrong: print the command's usage line too
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failf is a failed check: exit 1.
func failf(format string, args ...any) error {
	return &exitError{code: exitFail, err: fmt.Errorf(format, args...)}
}

// envf is an error of the environment or of the input files (no pytest, an
// unreadable r2c.toml, a missing paper): exit 2 without the usage line.
func envf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// usagef is wrong usage (missing or extra arguments, conflicting flags):
// exit 2 with the usage line.
func usagef(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), usage: true}
}

// exitCode ends a command that has already reported with code (nil for 0).
func exitCode(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

// run is the whole CLI: main only wires the process to it.
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	root := rootCommand()
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return exitStatus(stderr, cmd, err)
}

// exitStatus prints err once and maps it to an exit code. Errors that are
// not exitErrors come from cobra itself (an unknown command, a bad flag):
// usage errors.
func exitStatus(stderr io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitUsage, err: err, usage: true}
	}
	if ee.err != nil {
		fmt.Fprintf(stderr, "r2c: %s\n", strings.TrimRight(ee.err.Error(), "\n"))
	}
	if ee.usage && cmd != nil {
		fmt.Fprintf(stderr, "usage: %s\nRun '%s --help' for its flags and examples.\n", cmd.UseLine(), cmd.CommandPath())
	}
	return ee.code
}

// rootCommand builds the command tree (fresh for each run, so flag values
// never leak between runs in one process, as in the tests).
func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "r2c <command>",
		Short: "turn machine-learning papers into tested Python in your style",
		Long: "r2c turns a section of a machine-learning paper into tested Python written in your own style.\n" +
			"It is a language server (r2c serve) and a CLI over the same packages.\n" +
			"Exit status of every command: 0 ok, 1 a check failed, 2 usage or environment error.",
		Example: "  r2c style learn ~/src/myrepo\n" +
			"  r2c implement --paper attention.pdf --section 3.2 --out attn/ --endpoint http://localhost:8080/v1\n" +
			"  r2c validate attn/attention.py --json",
		Version:       versionString(),
		SilenceErrors: true, // exitStatus prints each error once, as "r2c: ..."
		SilenceUsage:  true, // and the usage line only for usage errors
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: singleDashHint(c, err), usage: true}
	})
	root.CompletionOptions.DisableDefaultCmd = true // completion.go has one with examples
	root.SetHelpCommand(helpCommand())
	asGroup(root, topCommands()...)
	root.InitDefaultHelpCmd() // now, not at Execute, so the tree is whole for tests and completion
	wrapPlainErrors(root)
	return root
}

// singleDashHint adds "did you mean --json?" to pflag's error for -json,
// which Go's flag package (r2c's before cobra) accepted.
func singleDashHint(c *cobra.Command, err error) error {
	_, arg, ok := strings.Cut(err.Error(), "unknown shorthand flag: ")
	if !ok {
		return err
	}
	_, arg, ok = strings.Cut(arg, " in -")
	if !ok {
		return err
	}
	name, _, _ := strings.Cut(arg, "=")
	if f := c.Flags().Lookup(name); f != nil && !f.Hidden {
		return fmt.Errorf("%w (did you mean --%s? long flags take two dashes)", err, name)
	}
	return err
}

// asGroup makes cmd a noun whose verbs are subs: run without a verb it
// prints its commands to stderr and exits 2; an unknown verb is a usage
// error naming the verbs there are.
func asGroup(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.AddCommand(subs...)
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		hint := ""
		if near := c.SuggestionsFor(args[0]); len(near) > 0 {
			hint = "; did you mean " + strings.Join(near, " or ") + "?"
		}
		return usagef("unknown command %q for %s (one of: %s%s)", args[0], c.CommandPath(), strings.Join(names, ", "), hint)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		fmt.Fprint(c.ErrOrStderr(), c.UsageString())
		return exitCode(exitUsage)
	}
	return cmd
}

// wrapPlainErrors makes a plain error returned by a command an environment
// error (exit 2, no usage line), so that only cobra's own errors reach
// exitStatus unwrapped.
func wrapPlainErrors(cmd *cobra.Command) {
	if f := cmd.RunE; f != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			err := f(c, args)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				return &exitError{code: exitUsage, err: err}
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		wrapPlainErrors(sub)
	}
}

// argsRange accepts between lo and hi positional arguments (hi < 0: no
// upper bound); otherwise it is a usage error with msg.
func argsRange(lo, hi int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usagef("%s (got %d arguments)", msg, len(args))
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("%s: unexpected arguments %v", name, args)
		}
		return nil
	}
}

// helpCommand is cobra's "help [command]" with an example like every other
// command.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "help about any command",
		Long:    "Prints the help of any command: its usage, flags and examples.",
		Example: "  r2c help validate\n  r2c help style check",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usagef("unknown help topic %q (see r2c --help)", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// writeJSON prints v as indented JSON, the form of every --json report.
func writeJSON(w io.Writer, what string, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return envf("%s: writing JSON: %w", what, err)
	}
	return nil
}
