package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/r2c-ai/r2c/trainer"
)

func trainCommand() *cobra.Command {
	return asGroup(&cobra.Command{
		Use:   "train <command>",
		Short: "fine-tune a LoRA adapter on your own repositories",
		Long: "Builds a fine-tuning dataset from your git repositories (train dataset), installs the training\n" +
			"environment (train setup) and runs the LoRA fine-tune with accelerate (train run).",
		Example: "  r2c train dataset --repo ~/src/myrepo --author me@example.com --out ds/\n" +
			"  r2c train setup\n" +
			"  r2c train run --data ds/ --out adapter-run/",
	}, trainDatasetCommand(), trainSetupCommand(), trainRunCommand())
}

// trainErr maps the trainer's errors to exit codes: a usage error (bad
// repository, missing symbol, missing environment) exits 2, anything else 1.
func trainErr(err error) error {
	if err == nil {
		return nil
	}
	if trainer.IsUsage(err) {
		return envf("%w", err)
	}
	return failf("%w", err)
}

type trainDatasetFlags struct {
	repos, authors          []string
	since, papers, tok, out string
	split                   string
	maxTokens, workers      int
	minStyle                float64
	asJSON                  bool
}

func trainDatasetCommand() *cobra.Command {
	var f trainDatasetFlags
	cmd := &cobra.Command{
		Use:   "dataset --repo PATH_OR_URL... --out DIR [flags]",
		Short: "build a fine-tuning dataset from your repositories",
		Long: "Reads each repository's HEAD with go-git (work trees, bare and shallow clones, URLs), keeps the\n" +
			"git-tracked Python files and notebook code cells that are yours (vendored, generated, minified and\n" +
			"virtual-environment code skipped, .gitignore honoured), cuts them into functions, methods and classes,\n" +
			"redacts secrets (gitleaks' rules plus r2c's), drops trivial, unparsable, duplicate, near-duplicate and\n" +
			"off-style units, and writes train/validation/test JSONL in the chat \"messages\" format with card.json\n" +
			"and card.md. --author keeps code those authors wrote (git blame). The same input gives the same bytes.\n" +
			"Exit status: 0 written, 1 failed, 2 usage errors (not a repository, no commits, a papers mapping naming\n" +
			"a missing symbol, an --out holding other files).",
		Example: "  r2c train dataset --repo . --out ds/\n" +
			"  r2c train dataset --repo ~/src/a --repo https://github.com/me/b --author me@example.com --since 2023-01-01 --out ds/\n" +
			"  r2c train dataset --repo . --papers papers.json --tokenizer tokenizer.json --max-tokens 4096 --out ds/",
		Args: argsRange(0, 0, "train dataset: repositories are given with --repo"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := streams(cmd)
			opts := trainer.DatasetOptions{Repos: f.repos, Authors: f.authors, Papers: f.papers, Tokenizer: f.tok,
				MaxTokens: f.maxTokens, MinStyle: f.minStyle, Out: f.out, Log: s.err, Workers: f.workers}
			if f.since != "" {
				t, err := time.Parse("2006-01-02", f.since)
				if err != nil {
					return usagef("--since %q: use a date like 2024-01-31", f.since)
				}
				opts.Since = t
			}
			if f.split != "" {
				parts := strings.Split(f.split, "/")
				if len(parts) != 3 {
					return usagef("--split %q: use three percentages like 90/5/5", f.split)
				}
				for i, p := range parts {
					n, err := strconv.Atoi(p)
					if err != nil {
						return usagef("--split %q: use three percentages like 90/5/5", f.split)
					}
					opts.Split[i] = n
				}
			}
			card, err := trainer.Dataset(cmd.Context(), opts)
			if err != nil {
				return trainErr(err)
			}
			if f.asJSON {
				b, _ := json.MarshalIndent(card, "", "  ")
				fmt.Fprintln(s.out, string(b))
				return nil
			}
			fmt.Fprintf(s.out, "dataset in %s: train %d, validation %d, test %d records (%s); see card.md\n",
				f.out, card.Records["train"], card.Records["validation"], card.Records["test"], card.Tokens.Counter)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.repos, "repo", nil, "a repository: folder, bare repository or URL (repeatable)")
	fl.StringArrayVar(&f.authors, "author", nil, "keep only code this author wrote, by email or name (repeatable)")
	fl.StringVar(&f.since, "since", "", "keep only code written since this date (YYYY-MM-DD)")
	fl.StringVar(&f.papers, "papers", "", "JSON mapping of paper sections to file and symbol, for research-to-code pairs")
	fl.StringVar(&f.tok, "tokenizer", "", "the model's tokenizer.json, to count tokens exactly (default: an estimate)")
	fl.IntVar(&f.maxTokens, "max-tokens", 2048, "drop records longer than this many tokens")
	fl.Float64Var(&f.minStyle, "min-style", trainer.DefaultMinStyle, "drop units scoring under this (0-100) against your style profile")
	fl.StringVar(&f.split, "split", "90/5/5", "train/validation/test percentages")
	fl.StringVar(&f.out, "out", "", "the dataset folder (written whole or not at all)")
	fl.IntVar(&f.workers, "workers", 0, "files processed at once (default: one per CPU)")
	fl.BoolVar(&f.asJSON, "json", false, "print card.json instead of the summary line")
	return cmd
}

func trainSetupCommand() *cobra.Command {
	var o trainer.SetupOptions
	cmd := &cobra.Command{
		Use:   "setup [flags]",
		Short: "create the training environment (torch, transformers, peft, trl, accelerate)",
		Long: "Creates a Python virtual environment (default: under the user cache, keyed by the lock file's hash)\n" +
			"and installs the recipe's locked requirements from PyPI with uv (installed into it) or pip. The first run\n" +
			"downloads about 3 GB (torch with its CUDA libraries); PIP_CACHE_DIR and UV_CACHE_DIR are honoured.\n" +
			"An environment already made for this lock is left as it is.\n" +
			"Exit status: 0 ready, 1 the install failed, 2 no python3.",
		Example: "  r2c train setup\n  r2c train setup --venv /opt/r2c-train --installer pip",
		Args:    argsRange(0, 0, "train setup takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := streams(cmd)
			o.Log = s.err
			venv, err := trainer.Setup(cmd.Context(), o)
			if err != nil {
				return trainErr(err)
			}
			fmt.Fprintln(s.out, venv)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Venv, "venv", "", "the environment's folder (default: r2c/venv-trainer-LOCKHASH in the user cache)")
	cmd.Flags().StringVar(&o.Python, "python", "", "the interpreter that creates it (default: python3 on PATH)")
	cmd.Flags().StringVar(&o.Installer, "installer", "uv", "uv or pip")
	return cmd
}

func trainRunCommand() *cobra.Command {
	var o trainer.RunOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run --data DIR [flags]",
		Short: "fine-tune a LoRA adapter on a dataset (transformers + PEFT + TRL via accelerate)",
		Long: "Writes the recipe and its configuration into --out, checks python, torch, CUDA, bitsandbytes (for\n" +
			"8/4-bit), free disk and memory, then runs it with `accelerate launch`: LoRA r 8 (or 16), alpha 16,\n" +
			"dropout 0.05 on the q/k/v/o/gate/up/down projections, lr 3e-4 cosine with warm-up, batch 4 x 4, 3 epochs,\n" +
			"max length 2048, gradient checkpointing, loss on the completion only. Progress goes to stderr and\n" +
			"train.log. Ctrl-C stops at the next step with a checkpoint; --resume continues from it. At the end:\n" +
			"the adapter in OUT/adapter, base against adapter on the test split (loss, style of generated code),\n" +
			"and the lines that serve it with TGI or vLLM.\n" +
			"Exit status: 0 trained (or stopped with a checkpoint), 1 training failed, 2 usage or environment errors.",
		Example: "  r2c train run --data ds/ --out run/\n" +
			"  r2c train run --data ds/ --base ./my-model --max-steps 50 --quantization 4bit\n" +
			"  r2c train run --data ds/ --accelerate-config run/recipe/accelerate/fsdp.yaml --dry-run",
		Args: argsRange(0, 0, "train run: the dataset is given with --data"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := streams(cmd)
			o.Log = s.err
			res, err := trainer.Run(cmd.Context(), o)
			if err != nil {
				return trainErr(err)
			}
			if asJSON {
				b, _ := json.MarshalIndent(map[string]any{"dir": res.Dir, "adapter": res.Adapter, "command": res.Command,
					"stopped": res.Stopped, "eval": res.Eval}, "", "  ")
				fmt.Fprintln(s.out, string(b))
				return nil
			}
			switch {
			case o.DryRun:
				fmt.Fprintln(s.out, strings.Join(res.Command, " "))
			case res.Stopped:
				fmt.Fprintf(s.out, "stopped; resume with: r2c train run --data %s --out %s --resume\n", o.Data, res.Dir)
			default:
				fmt.Fprintln(s.out, res.Adapter)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Data, "data", "", "the dataset folder made by r2c train dataset")
	fl.StringVar(&o.Base, "base", "", "base model: Hugging Face id or local folder (default codellama/CodeLlama-7b-Instruct-hf)")
	fl.StringVar(&o.Out, "out", "r2c-adapter", "the run folder: recipe, checkpoints, train.log, adapter/")
	fl.StringVar(&o.ConfigFile, "config", "", "JSON overriding the recipe's values (the fields of OUT/recipe/run.json)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "write the recipe and print the command without running it")
	fl.BoolVar(&o.Resume, "resume", false, "continue from the last checkpoint in OUT/checkpoints")
	fl.StringVar(&o.Launcher, "launcher", "accelerate", "accelerate, or python (one process, no accelerate)")
	fl.StringVar(&o.AccelerateConfig, "accelerate-config", "", "an accelerate config (default: cpu, single_gpu or ddp by the GPUs found; fsdp and deepspeed_zero2/3 ship too)")
	fl.IntVar(&o.MaxSteps, "max-steps", 0, "stop after this many optimizer steps (a smoke run)")
	fl.Float64Var(&o.Epochs, "epochs", 0, "epochs (default 3)")
	fl.StringVar(&o.Venv, "venv", "", "the environment r2c train setup made (default: r2c/venv-trainer-LOCKHASH in the user cache)")
	fl.StringVar(&o.Quantization, "quantization", "none", "none, 8bit or 4bit (bitsandbytes, CUDA)")
	fl.IntVar(&o.LoRARank, "lora-r", 8, "LoRA rank: 8 or 16")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
