package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trainerVenv is the training environment the real-training tests use:
// R2C_TRAINER_VENV (set by .ci/run and `make test-trainer`), else the
// default one `r2c train setup` makes.
func trainerVenv(t *testing.T) string {
	t.Helper()
	venv := os.Getenv("R2C_TRAINER_VENV")
	if venv == "" {
		venv = DefaultVenv()
	}
	if _, err := os.Stat(filepath.Join(venv, venvMarker)); err != nil {
		t.Skipf("no training environment at %s (run `r2c train setup --venv DIR` and set R2C_TRAINER_VENV=DIR): the real-training test needs torch", venv)
	}
	return venv
}

// writeTestingScript puts one of the recipe's testing helpers in a folder.
func writeTestingScript(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := RecipeFile("testing/" + name)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func venvPython(t *testing.T, venv string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestTrainRunCPU runs the real recipe through Run on the CPU: a tiny
// randomly initialised Llama and a tokenizer trained here on the dataset,
// 3 optimizer steps with accelerate launch, the adapter reloaded with PEFT
// and generating, then a resumed run that continues from the checkpoint.
// It also checks the Go tokenizer.json reader against Python's tokenizers
// on that tokenizer.
func TestTrainRunCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the real training run takes minutes")
	}
	venv := trainerVenv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	r := buildTestRepo(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	if _, err := Dataset(ctx, DatasetOptions{Repos: []string{r.dir}, Out: data}); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(work, "tiny")
	venvPython(t, venv, writeTestingScript(t, work, "make_tiny.py"), data, tiny)

	// Byte-level BPE (GPT-2 style) is counted exactly; SentencePiece-style
	// (Llama 2, CodeLlama) goes through github.com/sugarme/tokenizer, whose
	// count is approximate (no byte fallback, another merge order; measured
	// up to 14.9% on these texts): the card says so, and the test bounds it.
	t.Run("byte-level token counts equal Python tokenizers'", func(t *testing.T) {
		compareTokenCounts(t, venv, work, data, filepath.Join(tiny, "tokenizer.json"), 0)
	})
	t.Run("SentencePiece-style token counts within 20% of Python tokenizers'", func(t *testing.T) {
		compareTokenCounts(t, venv, work, data, filepath.Join(tiny, "llama_style_tokenizer.json"), 0.20)
	})

	out := filepath.Join(work, "run")
	var log bytes.Buffer
	res, err := Run(ctx, RunOptions{Data: data, Base: tiny, Out: out, MaxSteps: 3, Venv: venv, EvalNewTokens: 8, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var steps []int
	var sawDataset, sawSaved bool
	for _, ev := range res.Events {
		switch ev["event"] {
		case "log":
			s, _ := num(ev, "step")
			steps = append(steps, int(s))
			if l, ok := num(ev, "loss"); !ok || l <= 0 {
				t.Errorf("log event without a positive loss: %v", ev)
			}
		case "dataset":
			sawDataset = true
			if n, _ := num(ev, "completion_tokens"); n <= 0 {
				t.Errorf("empty loss mask: %v", ev)
			}
		case "saved":
			sawSaved = true
		}
	}
	if intsString(steps) != "1 2 3" {
		t.Errorf("optimizer steps logged %v, want 1 2 3", steps)
	}
	if !sawDataset || !sawSaved {
		t.Errorf("events lack dataset or saved: %v", res.Events)
	}
	if !strings.Contains(log.String(), "step 3/3") || !strings.Contains(log.String(), "--lora-adapters r2c=") || !strings.Contains(log.String(), "--enable-lora") {
		t.Errorf("progress and serving lines missing:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(res.Adapter, "adapter_model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if res.Eval == nil || res.Eval.Samples == 0 || res.Eval.BaseLoss <= 0 || res.Eval.AdapterLoss <= 0 {
		t.Errorf("evaluation on the test split: %+v", res.Eval)
	}
	if b, err := os.ReadFile(filepath.Join(out, "train.log")); err != nil || !bytes.Contains(b, []byte(`"event": "saved"`)) {
		t.Errorf("train.log lacks the events: %v", err)
	}

	check := venvPython(t, venv, writeTestingScript(t, work, "check_adapter.py"), tiny, res.Adapter)
	var got struct {
		AdapterConfig struct {
			R             int      `json:"r"`
			LoraAlpha     int      `json:"lora_alpha"`
			LoraDropout   float64  `json:"lora_dropout"`
			TargetModules []string `json:"target_modules"`
			TaskType      string   `json:"task_type"`
			ModulesToSave []string `json:"modules_to_save"`
		} `json:"adapter_config"`
		GeneratedTokens int     `json:"generated_tokens"`
		MergeDiff       float64 `json:"merge_max_abs_diff"`
	}
	if err := json.Unmarshal(check, &got); err != nil {
		t.Fatalf("%v: %s", err, check)
	}
	ac := got.AdapterConfig
	sort.Strings(ac.TargetModules)
	want := append([]string(nil), DefaultTargetModules...)
	sort.Strings(want)
	if ac.R != 8 || ac.LoraAlpha != 16 || ac.LoraDropout != 0.05 || strings.Join(ac.TargetModules, ",") != strings.Join(want, ",") ||
		ac.TaskType != "CAUSAL_LM" || len(ac.ModulesToSave) != 0 {
		t.Errorf("adapter_config.json: %+v", ac)
	}
	if got.GeneratedTokens != 5 {
		t.Errorf("generated %d tokens after reloading, want 5", got.GeneratedTokens)
	}
	if got.MergeDiff > 1e-4 {
		t.Errorf("merged model differs from base + adapter by %g", got.MergeDiff)
	}

	// Resume: two more steps from the last checkpoint.
	log.Reset()
	res2, err := Run(ctx, RunOptions{Data: data, Base: tiny, Out: out, MaxSteps: 5, Venv: venv, Resume: true, EvalNewTokens: 4, Log: &log})
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, log.String())
	}
	steps = nil
	resumed := false
	for _, ev := range res2.Events {
		if ev["event"] == "resume" {
			resumed = true
		}
		if ev["event"] == "log" {
			s, _ := num(ev, "step")
			steps = append(steps, int(s))
		}
	}
	if !resumed || intsString(steps) != "4 5" {
		t.Errorf("resumed run: resume event %v, steps %v, want 4 5\n%s", resumed, steps, log.String())
	}
}

// compareTokenCounts counts the dataset's records and a few awkward
// strings with the Go reader and with Python's tokenizers on one
// tokenizer.json.
func compareTokenCounts(t *testing.T, venv, work, data, tokenizerJSON string, tolerance float64) {
	c, err := newHFCounter(tokenizerJSON)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"def f(x):\n    return x + 1\n", "  ünïcode — “quotes” 🙂\n\ttabs", "", "a\n\n\n  b   c  "}
	for _, name := range []string{"train.jsonl", "test.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(data, name))
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var rec Record
			if json.Unmarshal(line, &rec) == nil {
				texts = append(texts, recordText(rec.Messages))
			}
		}
	}
	var in bytes.Buffer
	for _, s := range texts {
		j, _ := json.Marshal(s)
		in.Write(append(j, '\n'))
	}
	script := writeTestingScript(t, work, "count_tokens.py")
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), script, tokenizerJSON)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(texts) {
		t.Fatalf("%d counts from Python for %d texts", len(want), len(texts))
	}
	bad, worst := 0, 0.0
	for i, s := range texts {
		got, err := c.Count(s)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := strconv.Atoi(want[i])
		if tolerance > 0 && strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
			// no byte fallback in the reader: non-ASCII text is undercounted
			t.Logf("text %d (non-ASCII): Go %d, Python %d tokens", i, got, ref)
			continue
		}
		rel := 0.0
		if ref > 0 {
			rel = float64(got-ref) / float64(ref)
		} else if got != 0 {
			rel = 1
		}
		if rel < 0 {
			rel = -rel
		}
		if rel > worst {
			worst = rel
		}
		if rel > tolerance {
			bad++
			if bad <= 5 {
				t.Errorf("text %d (%.60q): Go counts %d tokens, Python tokenizers %d", i, s, got, ref)
			}
		}
	}
	t.Logf("%s: %d texts, largest difference %.1f%%", filepath.Base(tokenizerJSON), len(texts), 100*worst)
	if bad > 0 {
		t.Errorf("%d of %d texts counted outside %.0f%%", bad, len(texts), 100*tolerance)
	}
}

func intsString(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

func TestRunPreflightAndDryRun(t *testing.T) {
	r := buildTestRepo(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	if _, err := Dataset(context.Background(), DatasetOptions{Repos: []string{r.dir}, Out: data}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), RunOptions{Data: data, Out: filepath.Join(work, "run"), Venv: filepath.Join(work, "novenv")})
	if !IsUsage(err) || !strings.Contains(err.Error(), "r2c train setup --venv") {
		t.Errorf("missing venv: %v", err)
	}
	_, err = Run(context.Background(), RunOptions{Data: work, Out: filepath.Join(work, "run")})
	if !IsUsage(err) || !strings.Contains(err.Error(), "r2c train dataset") {
		t.Errorf("not a dataset: %v", err)
	}
	_, err = Run(context.Background(), RunOptions{Data: data, Out: filepath.Join(work, "run"), Quantization: "3bit", DryRun: true})
	if !IsUsage(err) {
		t.Errorf("bad quantization: %v", err)
	}
	var log bytes.Buffer
	res, err := Run(context.Background(), RunOptions{Data: data, Out: filepath.Join(work, "run"), DryRun: true, Log: &log, LoRARank: 16})
	if err != nil {
		t.Fatal(err)
	}
	var cfg RunConfig
	b, err := os.ReadFile(filepath.Join(res.Dir, "recipe", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	tc := cfg.Training
	if cfg.LoRA.R != 16 || cfg.LoRA.Alpha != 16 || cfg.LoRA.Dropout != 0.05 || tc.LearningRate != 3e-4 || tc.LRScheduler != "cosine" ||
		tc.BatchSize != 4 || tc.GradientAccumulationSteps != 4 || tc.Epochs != 3 || tc.MaxLength != 2048 || !cfg.GradientCheckpointing {
		t.Errorf("run.json does not carry the design's values: %+v", cfg)
	}
	for _, f := range []string{"train.py", "command.sh", "accelerate/fsdp.yaml", "accelerate/deepspeed_zero3.yaml", "accelerate/ddp.yaml", "requirements.lock"} {
		if _, err := os.Stat(filepath.Join(res.Dir, "recipe", f)); err != nil {
			t.Errorf("dry run did not write %s", f)
		}
	}
	if !strings.Contains(log.String(), "accelerate launch --config_file") {
		t.Errorf("dry run does not print the command:\n%s", log.String())
	}
}
