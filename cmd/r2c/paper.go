package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/orchestrator"
	"github.com/r2c-ai/r2c/paper"
)

func paperCommand() *cobra.Command {
	return asGroup(&cobra.Command{
		Use:   "paper <command>",
		Short: "read a paper (PDF, LaTeX, Markdown, text, arXiv id/URL): list or show its sections",
		Long: "Reads a paper as r2c implement does: a .pdf, .tex, .md or .txt file, or an arXiv id or URL\n" +
			"(downloaded once into $XDG_CACHE_HOME/r2c/arxiv), and lists or shows its sections.",
		Example: "  r2c paper sections 1706.03762\n  r2c paper show attention.pdf 3.2",
	}, paperSectionsCommand(), paperShowCommand())
}

// paperFlags are the flags both verbs share.
type paperFlags struct {
	cacheDir string
	timeout  time.Duration
	maxPages int
	asJSON   bool
}

func (f *paperFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cacheDir, "cache-dir", "", "arXiv download cache (config: paper.cache_dir; default $XDG_CACHE_HOME/r2c/arxiv)")
	fs.DurationVar(&f.timeout, "timeout", 0, "arXiv download timeout (config: paper.download_timeout, default 60s)")
	fs.IntVar(&f.maxPages, "max-pages", 0, "refuse PDFs with more pages than this (default: paper.max_pages, 1000)")
}

// options reads [paper] from the configuration of the workspace around the
// working directory; the flags override it.
func (f *paperFlags) options() (paper.Options, error) {
	cfg, err := config.Load(core.FindRoot("."))
	if err != nil {
		return paper.Options{}, err
	}
	cfg.Merge(config.Config{Paper: config.Paper{CacheDir: f.cacheDir, DownloadTimeout: config.Duration(f.timeout), MaxPages: f.maxPages}})
	opts := orchestrator.PaperOptions(cfg)
	return opts, nil
}

// loadPaper is paper.Load with a hint for the one limit a flag raises.
func loadPaper(ctx context.Context, source string, opts paper.Options) (*paper.Paper, error) {
	p, err := paper.Load(ctx, source, opts)
	if errors.Is(err, paper.ErrTooLarge) && strings.Contains(err.Error(), " pages") {
		err = fmt.Errorf("%w (raise the limit with --max-pages or paper.max_pages in r2c.toml)", err)
	}
	return p, err
}

func paperSectionsCommand() *cobra.Command {
	var f paperFlags
	cmd := &cobra.Command{
		Use:   "sections [flags] PAPER",
		Short: "print the section tree with pages and equation/table counts",
		Long: "Prints the paper's title and its numbered section tree, each section with its page and\n" +
			"its own counts of equations, tables and algorithms. PAPER is a .pdf, .tex, .md or .txt\n" +
			"file, or an arXiv id or URL (downloaded once into $XDG_CACHE_HOME/r2c/arxiv).\n" +
			"Exit status: 0 ok, 2 when the paper cannot be read (missing, truncated, too large) or on usage errors.",
		Example: "  r2c paper sections examples/attention/paper.md\n" +
			"  r2c paper sections 1706.03762 --json\n" +
			"  r2c paper sections --max-pages 2000 book.pdf",
		Args: argsRange(1, 1, "paper sections: name one PAPER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPaperSections(cmd.Context(), streams(cmd), f, args[0])
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON instead of a table")
	f.register(cmd.Flags())
	return cmd
}

func runPaperSections(ctx context.Context, s stdio, f paperFlags, source string) error {
	opts, err := f.options()
	if err != nil {
		return envf("paper: %w", err)
	}
	p, err := loadPaper(ctx, source, opts)
	if err != nil {
		return envf("%w", err) // it could not run: a missing, unreadable or too large paper
	}
	if f.asJSON {
		return writeJSON(s.out, "paper sections", p.Outline())
	}
	title := p.Title
	if title == "" {
		title = "(untitled)"
	}
	fmt.Fprintf(s.out, "%s\n%s, %s", title, p.Source, p.Format)
	if p.Pages > 0 {
		fmt.Fprintf(s.out, ", %d pages", p.Pages)
	}
	fmt.Fprintf(s.out, ", %d references\n\n", len(p.References))
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tPAGE\tEQUATIONS\tTABLES\tALGORITHMS")
	p.Walk(func(sec *paper.Section) {
		page := "-"
		if sec.Page > 0 {
			page = fmt.Sprint(sec.Page)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\t%d\n", strings.Repeat("  ", sec.Level-1), sec.Heading(), page, len(sec.Equations), len(sec.Tables), len(sec.Algorithms))
	})
	tw.Flush()
	for _, n := range p.Notes {
		fmt.Fprintf(s.err, "note: %s\n", n)
	}
	return nil
}

func paperShowCommand() *cobra.Command {
	var f paperFlags
	cmd := &cobra.Command{
		Use:   "show [flags] PAPER SECTION",
		Short: "print one section with its subsections, equations and tables",
		Long: "Prints one section as Markdown, with its subsections, equations, tables and algorithm\n" +
			"blocks. SECTION is a number (\"3.2\"), a title (\"Scaled Dot-Product Attention\", any case,\n" +
			"a unique prefix is enough) or both (\"3.2 Attention\"). With --json: the section's number, title,\n" +
			"page and Markdown as one JSON object.\n" +
			"Exit status: 0 ok, 1 when the paper has no such section, 2 when it cannot be read or on usage errors.",
		Example: "  r2c paper show examples/attention/paper.md 3.2\n" +
			"  r2c paper show 1706.03762 Scaled Dot-Product Attention\n" +
			"  r2c paper show attention.pdf \"3.2 Attention\" --json",
		Args: argsRange(2, -1, "paper show: name a PAPER and a SECTION"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return nil, cobra.ShellCompDirectiveDefault // the paper: a file
			}
			if len(args) == 1 {
				return completeSections(cmd.Context(), args[0], toComplete)
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPaperShow(cmd.Context(), streams(cmd), f, args[0], strings.Join(args[1:], " "))
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the section as a JSON object")
	f.register(cmd.Flags())
	return cmd
}

// sectionText is the JSON shape of "r2c paper show --json".
type sectionText struct {
	Number   string `json:"number"`
	Title    string `json:"title"`
	Level    int    `json:"level"`
	Page     int    `json:"page"`
	Markdown string `json:"markdown"`
}

func runPaperShow(ctx context.Context, s stdio, f paperFlags, source, section string) error {
	opts, err := f.options()
	if err != nil {
		return envf("paper: %w", err)
	}
	p, err := loadPaper(ctx, source, opts)
	if err != nil {
		return envf("%w", err) // it could not run: a missing, unreadable or too large paper
	}
	sec, err := p.Find(section)
	if err != nil {
		return failf("%w", err)
	}
	if f.asJSON {
		return writeJSON(s.out, "paper show", sectionText{Number: sec.Number, Title: sec.Title, Level: sec.Level, Page: sec.Page, Markdown: sec.Markdown()})
	}
	fmt.Fprint(s.out, sec.Markdown())
	return nil
}
