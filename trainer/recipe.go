package trainer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed recipe/train.py recipe/requirements.in recipe/requirements.lock recipe/accelerate/*.yaml recipe/testing/*.py
var recipeFS embed.FS

// LockHash identifies the recipe's locked requirements; a training
// environment is made for one lock and rebuilt when it changes.
func LockHash() string {
	data, _ := recipeFS.ReadFile("recipe/requirements.lock")
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// DefaultVenv is the training environment's folder: $R2C_TRAINER_VENV when
// set, else r2c/venv-trainer-LOCKHASH under the user cache, keyed by the
// lock's hash.
func DefaultVenv() string {
	if v := os.Getenv("R2C_TRAINER_VENV"); v != "" {
		return v
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "r2c", "venv-trainer-"+LockHash())
}

// SetupOptions configure Setup.
type SetupOptions struct {
	Venv      string    // default DefaultVenv()
	Python    string    // the interpreter that creates it; default python3 on PATH
	Installer string    // "uv" (default; installed into the venv from PyPI) or "pip"
	Log       io.Writer // the installers' output
}

const venvMarker = "r2c-lock.sha256"

// Setup creates the training environment and installs the recipe's locked
// requirements into it (torch's CUDA wheels are a few GB the first time).
// A venv already made for this lock is left as it is.
func Setup(ctx context.Context, opts SetupOptions) (string, error) {
	venv := opts.Venv
	if venv == "" {
		venv = DefaultVenv()
	}
	venv, _ = filepath.Abs(venv)
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if b, err := os.ReadFile(filepath.Join(venv, venvMarker)); err == nil && strings.TrimSpace(string(b)) == LockHash() {
		fmt.Fprintf(log, "r2c train setup: %s is ready (lock %s)\n", venv, LockHash())
		return venv, nil
	}
	py := opts.Python
	if py == "" {
		var err error
		if py, err = exec.LookPath("python3"); err != nil {
			return "", usagef("python3 not found: install Python 3.10 or later (Debian: apt-get install python3 python3-venv) or pass --python")
		}
	}
	if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
		fmt.Fprintf(log, "r2c train setup: creating %s with %s\n", venv, py)
		if err := runLogged(ctx, log, py, "-m", "venv", venv); err != nil {
			return "", fmt.Errorf("creating the virtual environment %s: %w (Debian: apt-get install python3-venv)", venv, err)
		}
	}
	lock := filepath.Join(venv, "r2c-requirements.lock")
	data, _ := recipeFS.ReadFile("recipe/requirements.lock")
	if err := os.WriteFile(lock, data, 0o644); err != nil {
		return "", err
	}
	vpy := filepath.Join(venv, "bin", "python")
	start := time.Now()
	installed := false
	if opts.Installer != "pip" {
		err := runLogged(ctx, log, vpy, "-m", "pip", "install", "-q", "uv==0.13.8")
		if err == nil {
			err = runLogged(ctx, log, filepath.Join(venv, "bin", "uv"), "pip", "install", "--python", vpy, "-r", lock)
		}
		if err == nil {
			installed = true
		} else if ctx.Err() == nil {
			fmt.Fprintf(log, "r2c train setup: uv failed (%v); installing with pip\n", err)
		}
	}
	if !installed {
		if err := runLogged(ctx, log, vpy, "-m", "pip", "install", "-r", lock); err != nil {
			return "", fmt.Errorf("installing the recipe's requirements into %s: %w", venv, err)
		}
	}
	if err := os.WriteFile(filepath.Join(venv, venvMarker), []byte(LockHash()+"\n"), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "r2c train setup: installed in %s\n", time.Since(start).Round(time.Second))
	return venv, nil
}

func runLogged(ctx context.Context, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}

// LoRA and training defaults from r2c's design, all set explicitly (TRL's
// and PEFT's own defaults differ).
var (
	DefaultTargetModules = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
)

// LoRAConfig is the adapter's shape.
type LoRAConfig struct {
	R             int      `json:"r"`
	Alpha         int      `json:"alpha"`
	Dropout       float64  `json:"dropout"`
	TargetModules []string `json:"target_modules"` // or ["all-linear"]
}

// TrainingConfig is the optimisation.
type TrainingConfig struct {
	LearningRate              float64 `json:"learning_rate"`
	LRScheduler               string  `json:"lr_scheduler"`
	WarmupRatio               float64 `json:"warmup_ratio"`
	WeightDecay               float64 `json:"weight_decay"`
	BatchSize                 int     `json:"batch_size"`
	GradientAccumulationSteps int     `json:"gradient_accumulation_steps"`
	Epochs                    float64 `json:"epochs"`
	MaxSteps                  int     `json:"max_steps"` // 0 for epochs only
	MaxLength                 int     `json:"max_length"`
	SaveSteps                 int     `json:"save_steps"`
	EvalSteps                 int     `json:"eval_steps"`
}

// RunConfig is run.json, everything the recipe reads.
type RunConfig struct {
	Base                  string         `json:"base"`
	Data                  string         `json:"data"`
	Out                   string         `json:"out"`
	Adapter               string         `json:"adapter"`
	Quantization          string         `json:"quantization"`
	GradientCheckpointing bool           `json:"gradient_checkpointing"`
	Seed                  int            `json:"seed"`
	Resume                bool           `json:"resume"`
	Evaluate              bool           `json:"evaluate"`
	EvalSamples           int            `json:"eval_samples"`
	EvalNewTokens         int            `json:"eval_new_tokens"`
	LoRA                  LoRAConfig     `json:"lora"`
	Training              TrainingConfig `json:"training"`
}

// DefaultRunConfig is the design's recipe: LoRA r 8, alpha 16, dropout
// 0.05 on the attention and MLP projections; lr 3e-4, cosine with 3%
// warm-up; batch 4 x accumulation 4; 3 epochs; sequences up to 2048 tokens.
func DefaultRunConfig() RunConfig {
	return RunConfig{
		Base:                  "codellama/CodeLlama-7b-Instruct-hf",
		Quantization:          "none",
		GradientCheckpointing: true,
		Seed:                  42,
		Evaluate:              true,
		EvalSamples:           8,
		EvalNewTokens:         256,
		LoRA:                  LoRAConfig{R: 8, Alpha: 16, Dropout: 0.05, TargetModules: DefaultTargetModules},
		Training: TrainingConfig{LearningRate: 3e-4, LRScheduler: "cosine", WarmupRatio: 0.03, BatchSize: 4,
			GradientAccumulationSteps: 4, Epochs: 3, MaxLength: 2048, SaveSteps: 100, EvalSteps: 100},
	}
}

// RunOptions configure Run.
type RunOptions struct {
	Data       string // a dataset folder made by Dataset
	Base       string // model id or local folder; default DefaultRunConfig().Base
	Out        string // the run folder; the adapter lands in Out/adapter; default "r2c-adapter"
	ConfigFile string // JSON overriding RunConfig fields
	DryRun     bool   // write the recipe and the command, run nothing
	Resume     bool
	// Launcher is "accelerate" (default) or "python" (no accelerate, one
	// process: for debugging the recipe).
	Launcher          string
	AccelerateConfig  string // default: one of the shipped configs by the GPUs found
	MaxSteps          int
	Venv              string // default DefaultVenv()
	Quantization      string // none, 8bit, 4bit; default none
	LoRARank          int    // 8 (default) or 16
	Epochs            float64
	EvalNewTokens     int
	Log               io.Writer // progress
	MinFreeDiskBytes  uint64    // default 2 GiB
	MinFreeMemoryByte uint64    // default 1 GiB
}

// Event is one JSON line from the recipe.
type Event map[string]any

// RunResult is what a run produced.
type RunResult struct {
	Dir       string
	Adapter   string
	Command   []string
	Events    []Event
	Stopped   bool
	Eval      *EvalResult
	ServeHelp string
}

// Run checks the environment, writes the recipe into opts.Out and runs it
// with accelerate launch, rendering its events as progress and writing
// train.log. Cancelling ctx (Ctrl-C) asks the recipe to stop at the next
// step with a checkpoint; Resume continues from the last one.
func Run(ctx context.Context, opts RunOptions) (*RunResult, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	data, err := filepath.Abs(opts.Data)
	if err != nil || opts.Data == "" {
		return nil, usagef("no dataset given: pass --data DIR (made by r2c train dataset)")
	}
	if _, err := os.Stat(filepath.Join(data, "card.json")); err != nil {
		return nil, usagef("--data %s is not an r2c dataset (no card.json): run r2c train dataset --out %s first", opts.Data, opts.Data)
	}
	if fi, err := os.Stat(filepath.Join(data, "train.jsonl")); err != nil || fi.Size() == 0 {
		return nil, usagef("--data %s has no training records (train.jsonl is empty): add repositories or relax --author/--since", opts.Data)
	}
	cfg := DefaultRunConfig()
	if opts.ConfigFile != "" {
		b, err := os.ReadFile(opts.ConfigFile)
		if err != nil {
			return nil, usagef("--config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, usagef("--config %s: %w (see `r2c train run --dry-run` for the fields)", opts.ConfigFile, err)
		}
	}
	if opts.Base != "" {
		cfg.Base = opts.Base
	}
	if fi, err := os.Stat(cfg.Base); err == nil && fi.IsDir() {
		cfg.Base, _ = filepath.Abs(cfg.Base)
		if _, err := os.Stat(filepath.Join(cfg.Base, "config.json")); err != nil {
			return nil, usagef("--base %s is a folder without config.json: pass a Hugging Face model folder or model id", opts.Base)
		}
	}
	if opts.Quantization != "" {
		cfg.Quantization = opts.Quantization
	}
	switch cfg.Quantization {
	case "none", "8bit", "4bit":
	default:
		return nil, usagef("--quantization %q: use none, 8bit or 4bit", cfg.Quantization)
	}
	if opts.LoRARank != 0 {
		cfg.LoRA.R = opts.LoRARank
	}
	switch cfg.LoRA.R {
	case 1, 8, 16, 32, 64, 128, 256:
	default:
		return nil, usagef("LoRA rank %d: use 8 or 16 (vLLM serves ranks 1, 8, 16, 32, 64, 128, 256)", cfg.LoRA.R)
	}
	if opts.MaxSteps > 0 {
		cfg.Training.MaxSteps = opts.MaxSteps
	}
	if opts.Epochs > 0 {
		cfg.Training.Epochs = opts.Epochs
	}
	if opts.EvalNewTokens > 0 {
		cfg.EvalNewTokens = opts.EvalNewTokens
	}
	out := opts.Out
	if out == "" {
		out = "r2c-adapter"
	}
	out, _ = filepath.Abs(out)
	cfg.Data, cfg.Out, cfg.Adapter, cfg.Resume = data, out, filepath.Join(out, "adapter"), opts.Resume
	venv := opts.Venv
	if venv == "" {
		venv = DefaultVenv()
	}
	venv, _ = filepath.Abs(venv)

	recipeDir := filepath.Join(out, "recipe")
	if err := writeRecipe(recipeDir, cfg); err != nil {
		return nil, err
	}
	res := &RunResult{Dir: out, Adapter: cfg.Adapter}

	launcher := opts.Launcher
	if launcher == "" {
		launcher = "accelerate"
	}
	var env *envInfo
	if !opts.DryRun {
		if env, err = preflight(ctx, venv, cfg, opts, out); err != nil {
			return nil, err
		}
	}
	switch launcher {
	case "accelerate":
		acc := opts.AccelerateConfig
		if acc == "" {
			name := "cpu.yaml"
			if env != nil && env.GPUs == 1 {
				name = "single_gpu.yaml"
			} else if env != nil && env.GPUs > 1 {
				name = "ddp.yaml"
			}
			acc = filepath.Join(recipeDir, "accelerate", name)
		}
		res.Command = []string{filepath.Join(venv, "bin", "accelerate"), "launch", "--config_file", acc}
		if env != nil && env.GPUs > 1 && opts.AccelerateConfig == "" {
			res.Command = append(res.Command, "--num_processes", strconv.Itoa(env.GPUs))
		}
		res.Command = append(res.Command, filepath.Join(recipeDir, "train.py"), "--config", filepath.Join(recipeDir, "run.json"))
	case "python":
		res.Command = []string{filepath.Join(venv, "bin", "python"), filepath.Join(recipeDir, "train.py"), "--config", filepath.Join(recipeDir, "run.json")}
	default:
		return nil, usagef("--launcher %q: use accelerate or python", launcher)
	}
	if err := os.WriteFile(filepath.Join(recipeDir, "command.sh"), []byte("#!/bin/sh\nexec "+shellJoin(res.Command)+"\n"), 0o755); err != nil {
		return nil, err
	}
	if opts.DryRun {
		fmt.Fprintf(log, "r2c train run: dry run; the recipe is in %s\n%s\n", recipeDir, shellJoin(res.Command))
		return res, nil
	}

	if err := launch(ctx, res, out, log); err != nil {
		return res, err
	}
	if res.Stopped {
		return res, nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Adapter, "adapter_config.json")); err != nil {
		return res, fmt.Errorf("the recipe finished without saving an adapter in %s: see %s", cfg.Adapter, filepath.Join(out, "train.log"))
	}
	if ev, err := evaluateSamples(data, out, res.Events); err != nil {
		fmt.Fprintf(log, "warning: scoring the generated samples: %v\n", err)
	} else {
		res.Eval = ev
	}
	res.ServeHelp = serveHelp(cfg)
	fmt.Fprintln(log, res.ServeHelp)
	return res, nil
}

func writeRecipe(dir string, cfg RunConfig) error {
	if err := os.MkdirAll(filepath.Join(dir, "accelerate"), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	err := fs.WalkDir(recipeFS, "recipe", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "recipe/testing/") {
			return err
		}
		b, err := recipeFS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, strings.TrimPrefix(p, "recipe/")), b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("writing the recipe: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "run.json"), append(b, '\n'), 0o644)
}

// RecipeFile returns one of the embedded recipe files, e.g.
// "testing/make_tiny.py", for tests and tools.
func RecipeFile(name string) ([]byte, error) { return recipeFS.ReadFile("recipe/" + name) }

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

type envInfo struct {
	Python   string            `json:"python"`
	Versions map[string]string `json:"versions"`
	Missing  []string          `json:"missing"`
	CUDA     bool              `json:"cuda"`
	GPUs     int               `json:"gpus"`
}

const probeScript = `
import json, sys, importlib
info = {"python": sys.version.split()[0], "versions": {}, "missing": [], "cuda": False, "gpus": 0}
for m in ("torch", "transformers", "peft", "trl", "accelerate", "datasets", "bitsandbytes"):
    try:
        info["versions"][m] = importlib.import_module(m).__version__
    except Exception:
        info["missing"].append(m)
if "torch" in info["versions"]:
    import torch
    info["cuda"] = torch.cuda.is_available()
    info["gpus"] = torch.cuda.device_count()
print(json.dumps(info))
`

// preflight checks what a run needs, each missing piece a UsageError with
// its fix.
func preflight(ctx context.Context, venv string, cfg RunConfig, opts RunOptions, out string) (*envInfo, error) {
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		return nil, usagef("no training environment at %s: run `r2c train setup --venv %s` first", venv, venv)
	}
	cmd := exec.CommandContext(ctx, py, "-c", probeScript)
	cmd.Dir = out // not the caller's folder, which may hold modules that shadow the recipe's
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return nil, usagef("the training environment %s does not start (%v: %s): rerun `r2c train setup --venv %s`", venv, err, last, venv)
	}
	var env envInfo
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("probing %s: %w", venv, err)
	}
	var problems []string
	for _, m := range env.Missing {
		if m == "bitsandbytes" {
			if cfg.Quantization != "none" {
				problems = append(problems, fmt.Sprintf("--quantization %s needs bitsandbytes: %s -m pip install bitsandbytes==0.50.2", cfg.Quantization, py))
			}
			continue
		}
		problems = append(problems, fmt.Sprintf("%s is not installed in %s: run `r2c train setup --venv %s`", m, venv, venv))
	}
	if cfg.Quantization != "none" && !env.CUDA {
		problems = append(problems, fmt.Sprintf("--quantization %s needs a CUDA GPU and torch sees none: use --quantization none on this machine", cfg.Quantization))
	}
	if _, err := os.Stat(filepath.Join(venv, "bin", "accelerate")); err != nil && (opts.Launcher == "" || opts.Launcher == "accelerate") {
		problems = append(problems, fmt.Sprintf("accelerate's launcher is missing from %s: run `r2c train setup --venv %s`", venv, venv))
	}
	minDisk := opts.MinFreeDiskBytes
	if minDisk == 0 {
		minDisk = 2 << 30
	}
	if free, err := freeDisk(out); err == nil && free < minDisk {
		problems = append(problems, fmt.Sprintf("only %d MiB free at %s, %d MiB needed for checkpoints: free space or pass another --out", free>>20, out, minDisk>>20))
	}
	minMem := opts.MinFreeMemoryByte
	if minMem == 0 {
		minMem = 1 << 30
	}
	if avail, err := availableMemory(); err == nil && avail < minMem {
		problems = append(problems, fmt.Sprintf("only %d MiB of memory available, %d MiB needed: close other programs or use --quantization 4bit on a GPU", avail>>20, minMem>>20))
	}
	if len(problems) > 0 {
		return nil, &UsageError{errors.New("r2c train run cannot start:\n  - " + strings.Join(problems, "\n  - "))}
	}
	return &env, nil
}

func freeDisk(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func availableMemory() (uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemAvailable:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseUint(f[1], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}

// launch runs the recipe in its own process group, parses its events from
// stdout, renders progress, and writes every line (events and stderr) to
// train.log. On cancellation it sends SIGINT to the group, waits for the
// checkpoint, and kills the group only after a grace period.
func launch(ctx context.Context, res *RunResult, out string, log io.Writer) error {
	logf, err := os.OpenFile(filepath.Join(out, "train.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s %s\n", time.Now().UTC().Format(time.RFC3339), shellJoin(res.Command))
	cmd := exec.Command(res.Command[0], res.Command[1:]...)
	cmd.Dir = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "TOKENIZERS_PARALLELISM=false", "HF_HUB_DISABLE_TELEMETRY=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", res.Command[0], err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case <-done:
		}
	}()
	var tail []string
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			tail = append(tail, sc.Text())
			if len(tail) > 20 {
				tail = tail[1:]
			}
		}
	}()
	bar := &progressBar{w: log}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logf, line)
		var ev Event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		res.Events = append(res.Events, ev)
		if ev["event"] == "stopped" {
			res.Stopped = true
		}
		bar.render(ev)
	}
	<-errDone
	err = cmd.Wait()
	close(done)
	if res.Stopped {
		fmt.Fprintf(log, "r2c train run: stopped with a checkpoint in %s; continue with --resume\n", filepath.Join(out, "checkpoints"))
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("training interrupted before a checkpoint was written: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("the training recipe failed (%w); last lines of %s:\n%s", err, filepath.Join(out, "train.log"), strings.Join(tail, "\n"))
	}
	return nil
}

// progressBar renders the recipe's events on one line per update.
type progressBar struct{ w io.Writer }

func num(ev Event, k string) (float64, bool) {
	v, ok := ev[k].(float64)
	return v, ok
}

func (p *progressBar) render(ev Event) {
	switch ev["event"] {
	case "log":
		step, _ := num(ev, "step")
		total, _ := num(ev, "max_steps")
		const width = 20
		filled := 0
		if total > 0 {
			filled = int(step / total * width)
		}
		if filled > width {
			filled = width
		}
		line := fmt.Sprintf("step %d/%d [%s%s]", int(step), int(total), strings.Repeat("=", filled), strings.Repeat(" ", width-filled))
		if v, ok := num(ev, "loss"); ok {
			line += fmt.Sprintf(" loss %.4f", v)
		}
		if v, ok := num(ev, "learning_rate"); ok {
			line += fmt.Sprintf(" lr %.2e", v)
		}
		if v, ok := num(ev, "tokens_per_s"); ok {
			line += fmt.Sprintf(" %.0f tok/s", v)
		}
		if v, ok := num(ev, "eta_s"); ok {
			line += " ETA " + (time.Duration(v) * time.Second).String()
		}
		fmt.Fprintln(p.w, line)
	case "eval":
		v, _ := num(ev, "eval_loss")
		fmt.Fprintf(p.w, "eval loss %.4f\n", v)
	case "dataset":
		fmt.Fprintf(p.w, "dataset: %v rows, tokens %v, %v completion tokens trained on, %v rows clipped at %v\n",
			ev["rows"], ev["tokens"], ev["completion_tokens"], ev["clipped"], ev["max_length"])
	case "start":
		fmt.Fprintf(p.w, "training %v on %v: %v of %v parameters trainable\n", ev["base"], ev["device"], ev["trainable_params"], ev["total_params"])
	case "saved":
		fmt.Fprintf(p.w, "adapter saved in %v\n", ev["adapter"])
	case "evaluation":
		fmt.Fprintf(p.w, "test loss: base %.4f, adapter %.4f\n", ev["base_loss"], ev["adapter_loss"])
	case "warning":
		fmt.Fprintf(p.w, "warning: %v\n", ev["message"])
	case "resume":
		fmt.Fprintf(p.w, "resuming from %v\n", ev["checkpoint"])
	}
}

// serveHelp is how to serve the adapter and point r2c at it.
func serveHelp(cfg RunConfig) string {
	base := cfg.Base
	return fmt.Sprintf(`Serve the adapter:
  TGI:  text-generation-launcher --model-id %s --lora-adapters r2c=%s
  vLLM: vllm serve %s --enable-lora --max-lora-rank %d --lora-modules r2c=%s
Then select it in r2c.toml (the workspace's, or ~/.config/r2c/r2c.toml):
  endpoint = "http://localhost:8080/v1"   # TGI's port; vLLM serves on 8000
  [model]
  name = "r2c"`, base, cfg.Adapter, base, maxInt(cfg.LoRA.R, 16), cfg.Adapter)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
