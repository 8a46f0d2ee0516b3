package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/style"
)

func styleCommand() *cobra.Command {
	return asGroup(&cobra.Command{
		Use:     "style <command>",
		Short:   "learn your Python style and check files against it",
		Long:    "Learns a style profile from your Python code and scores files against it.",
		Example: "  r2c style learn ~/src/myrepo\n  r2c style check model.py\n  r2c style stats --json model.py",
	}, styleLearnCommand(), styleCheckCommand(), styleStatsCommand())
}

// styleConfig loads the configuration of the workspace around the current
// directory and returns it with the absolute profile path.
func styleConfig() (config.Config, string, error) {
	root := core.FindRoot(".")
	cfg, err := core.LoadConfig(root)
	if err != nil {
		return cfg, "", err
	}
	return cfg, core.ProfilePath(cfg, root), nil
}

func styleLearnCommand() *cobra.Command {
	var out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "learn [flags] DIR...",
		Short: "learn a style profile from directories of Python code",
		Long: "Learns a style profile from the Python files under each DIR: the git-tracked .py files inside a git\n" +
			"work tree, otherwise every .py file, skipping virtual environments, vendored, build and generated code.\n" +
			"Writes versioned JSON with the counts behind every preference and prints a summary table (with --json:\n" +
			"the profile written, as JSON).\n" +
			"Exit status: 0 on success, 2 when no Python file could be read or the profile cannot be written.",
		Example: "  r2c style learn .\n  r2c style learn -o team-style.json ~/src/a ~/src/b",
		Args:    argsRange(1, -1, "style learn: name at least one directory, e.g. r2c style learn ."),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStyleLearn(cmd.Context(), streams(cmd), out, asJSON, args)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default: config style.profile, .r2c/style.json at the workspace root)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the learned profile as JSON instead of a table")
	return cmd
}

func runStyleLearn(ctx context.Context, s stdio, out string, asJSON bool, dirs []string) error {
	cfg, path, err := styleConfig()
	if err != nil {
		return envf("style learn: %w", err)
	}
	if out != "" {
		path = out
	}
	if path == "" {
		path = filepath.Join(".r2c", "style.json")
	}
	p, err := style.Learn(ctx, dirs)
	if err != nil {
		return envf("%w", err)
	}
	p.MinEvidence = cfg.Style.MinEvidence
	for _, skip := range p.Skipped {
		fmt.Fprintf(s.err, "r2c: skipped %s\n", skip)
	}
	if err := p.Save(path); err != nil {
		return envf("%w", err)
	}
	if asJSON {
		return writeJSON(s.out, "style learn", p)
	}
	printProfileTable(s.out, p)
	fmt.Fprintf(s.out, "\nlearned from %d file(s), %d lines; wrote %s\n", p.Files, p.Lines, path)
	return nil
}

// printProfileTable shows each dimension's preferred value, its share and
// the evidence behind it; dimensions below the evidence threshold are
// marked, because they neither score nor produce diagnostics.
func printProfileTable(w io.Writer, p *style.Profile) {
	min := p.MinEvidence
	if min <= 0 {
		min = style.DefaultMinEvidence
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DIMENSION\tPREFERS\tSHARE\tEVIDENCE\t")
	weak := 0
	for _, info := range style.Dimensions() {
		d := p.Dimensions[info.Name]
		n := d.Total()
		if n == 0 {
			continue
		}
		v, share := d.Mode()
		note := ""
		if n < min {
			note = "too little evidence"
			weak++
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f%%\t%d\t%s\n", info.Name, v, 100*share, n, note)
	}
	tw.Flush()
	if weak > 0 {
		fmt.Fprintf(w, "(%d dimensions have fewer than %d observations and are ignored when checking; learn from more code or lower style.min_evidence)\n", weak, min)
	}
}

// styleCheckResult is the JSON form of `r2c style check --json`.
type styleCheckResult struct {
	Files       []*style.Report `json:"files"`
	Consistency float64         `json:"consistency"`
	Profile     string          `json:"profile,omitempty"`
}

// styleCheckFlags are r2c style check's flags.
type styleCheckFlags struct {
	profile     string
	asJSON      bool
	strict      bool
	minScore    float64
	minEvidence int
}

func styleCheckCommand() *cobra.Command {
	var f styleCheckFlags
	cmd := &cobra.Command{
		Use:   "check [flags] FILE...",
		Short: "score Python files against the profile and list deviations",
		Long: "Scores each Python FILE against the style profile (0-100%) and prints its deviations as\n" +
			"file:line:col: rule: message (1-based), then a final line consistency: NN.N% (the mean over the\n" +
			"files, weighted by their lines). Without a profile only syntax errors are reported.\n" +
			"Exit status: 1 when a file has a syntax or encoding error, when --strict and a warning was reported,\n" +
			"or when the consistency is below --min-score; 2 when a file cannot be read or is not Python source;\n" +
			"0 otherwise. Style deviations alone are advice and do not fail the command.",
		Example: "  r2c style check model.py\n" +
			"  r2c style check --strict --min-score 90 src/*.py\n" +
			"  r2c style check model.py --json --profile team-style.json",
		Args: argsRange(1, -1, "style check: name at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitCode(runStyleCheck(cmd.Context(), streams(cmd), f, args))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", "", "profile JSON (default: config style.profile, .r2c/style.json at the workspace root)")
	fl.BoolVar(&f.asJSON, "json", false, "print the reports as one JSON object")
	fl.BoolVar(&f.strict, "strict", false, "fail (exit 1) on warnings too")
	fl.Float64Var(&f.minScore, "min-score", 0, "fail (exit 1) when the consistency is below this percentage")
	fl.IntVar(&f.minEvidence, "min-evidence", 0, "observations a dimension needs before it counts (default: config style.min_evidence)")
	return cmd
}

func runStyleCheck(ctx context.Context, s stdio, f styleCheckFlags, files []string) int {
	cfg, path, err := styleConfig()
	if err != nil {
		return s.errorf(exitUsage, "style check: %v", err)
	}
	var profile *style.Profile
	switch {
	case f.profile != "":
		if profile, err = style.LoadProfile(f.profile); err != nil {
			return s.errorf(exitUsage, "%v", err)
		}
		path = f.profile
	case path != "":
		if _, statErr := os.Stat(path); statErr == nil {
			if profile, err = style.LoadProfile(path); err != nil {
				return s.errorf(exitUsage, "%v", err)
			}
		}
	}
	if profile == nil {
		fmt.Fprintf(s.err, "r2c: no style profile at %s (create one with 'r2c style learn DIR'); checking syntax only\n", path)
		path = ""
	} else {
		profile.MinEvidence = cfg.Style.MinEvidence
		if f.minEvidence > 0 {
			profile.MinEvidence = f.minEvidence
		}
	}

	code := exitOK
	res := styleCheckResult{Profile: path, Files: []*style.Report{}}
	var weighted, lines float64
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return s.errorf(exitUsage, "style check: %v", err)
		}
		src, err := readPythonFile(file)
		if err != nil {
			code = max(code, s.errorf(exitUsage, "style check: %v", err))
			continue
		}
		rep, err := style.CheckSource(profile, file, src)
		if err != nil {
			code = max(code, s.errorf(exitUsage, "%v", err))
			continue
		}
		res.Files = append(res.Files, rep)
		n := float64(max(1, countLines(src)))
		weighted += rep.Score * n
		lines += n
		for _, d := range rep.Diagnostics {
			if d.Severity == style.SeverityError || (f.strict && d.Severity == style.SeverityWarning) {
				code = max(code, exitFail)
			}
		}
	}
	res.Consistency = 100
	if lines > 0 {
		res.Consistency = float64(int(weighted/lines*10+0.5)) / 10
	}
	if res.Consistency < f.minScore {
		code = max(code, exitFail)
	}
	if f.asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return s.errorf(exitUsage, "style check: %v", err)
		}
		return code
	}
	for _, rep := range res.Files {
		for _, d := range rep.Diagnostics {
			fmt.Fprintf(s.out, "%s:%d:%d: %s: %s\n", rep.Path, d.Range.Start.Line+1, d.Range.Start.Column+1, d.Rule, d.Message)
		}
		if len(res.Files) > 1 {
			fmt.Fprintf(s.out, "%s: consistency %.1f%%\n", rep.Path, rep.Score)
		}
	}
	fmt.Fprintf(s.out, "consistency: %.1f%%\n", res.Consistency)
	return code
}

func countLines(src []byte) int {
	n := 0
	for _, b := range src {
		if b == '\n' {
			n++
		}
	}
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}

func styleStatsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats [flags] FILE...",
		Short: "print raw ast-defined counts per file (JSON Lines with --json)",
		Long: "Prints raw counts for each Python FILE, defined exactly as Python's ast module defines them\n" +
			"(functions, classes, comprehensions, lambdas, fstrings, docstrings, args, annotated_args,\n" +
			"annotated_returns, imports, try_blocks, bare_excepts, loops, withs, decorators, function_names,\n" +
			"class_names). With --json: one JSON object per file per line (JSON Lines); syntax_errors appears\n" +
			"when tree-sitter had to recover from errors. Exit status: 2 when a file cannot be read or is not\n" +
			"Python source, 1 when a file has syntax errors, else 0.",
		Example: "  r2c style stats model.py\n  r2c style stats --json src/*.py",
		Args:    argsRange(1, -1, "style stats: name at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitCode(runStyleStats(cmd.Context(), streams(cmd), asJSON, args))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON Lines")
	return cmd
}

func runStyleStats(ctx context.Context, s stdio, asJSON bool, files []string) int {
	// A batch makes garbage at a steady rate and lives only as long as the
	// batch: collecting at 5× the live heap instead of 2× spends a few
	// megabytes to save most of the collections (a tenth of the wall time
	// on the standard library's large files, 2 cores). A GOGC the user set
	// wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	code := exitOK
	enc := json.NewEncoder(s.out)
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', tabwriter.AlignRight)
	if !asJSON {
		fmt.Fprintln(tw, "functions\tclasses\tcomprehensions\tlambdas\tfstrings\tdocstrings\targs\tannotated\timports\tloops\tfile\t")
	}
	// Files are parsed on every core (one file's parse is sequential work);
	// results are printed in the order given.
	readErrs := make([]error, len(files)) // written by read(i) before emit(i) runs
	read := func(i int) ([]byte, error) {
		src, err := readPythonFile(files[i])
		readErrs[i] = err
		return src, err
	}
	emit := func(i int, st *style.FileStats, err error) error {
		file := files[i]
		if readErrs[i] != nil {
			code = max(code, s.errorf(exitUsage, "style stats: %v", err))
			return nil
		}
		if err != nil {
			code = max(code, s.errorf(exitUsage, "%s: %v", file, err))
			return nil
		}
		st.Path = file
		if st.SyntaxErrors > 0 {
			fmt.Fprintf(s.err, "r2c: %s: %d syntax errors; counts cover what could be parsed\n", file, st.SyntaxErrors)
			code = max(code, exitFail)
		}
		if asJSON {
			return enc.Encode(st)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", st.Functions, st.Classes, st.Comprehensions,
			st.Lambdas, st.FStrings, st.Docstrings, st.Args, st.AnnotatedArgs, st.Imports, st.Loops, file)
		return nil
	}
	// Sizes let the biggest files start first (one left for the end would
	// run alone on one core); a file that cannot be stat'ed reports its
	// error when it is read.
	size := func(i int) int64 {
		if fi, err := os.Stat(files[i]); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
		return 0
	}
	if err := style.StatsEach(ctx, len(files), size, read, emit); err != nil {
		return s.errorf(exitUsage, "style stats: %v", err)
	}
	if !asJSON {
		tw.Flush()
	}
	return code
}

// readPythonFile reads a file named on the command line, refusing what is not
// a regular file (a FIFO would block, /dev/zero never ends) and reading at
// most one byte more than style.MaxSourceSize, so that the style package
// reports a too-large file without r2c holding all of it.
func readPythonFile(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, style.MaxSourceSize+1))
}
