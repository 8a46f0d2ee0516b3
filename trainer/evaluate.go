package trainer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/r2c-ai/r2c/style"
)

// EvalResult compares the base model with base + adapter on the test split.
type EvalResult struct {
	BaseLoss     float64 `json:"base_loss"`
	AdapterLoss  float64 `json:"adapter_loss"`
	Samples      int     `json:"samples"`
	BaseStyle    float64 `json:"base_style"`    // mean style score (0–100) of the base model's code
	AdapterStyle float64 `json:"adapter_style"` // the same for the adapter's
	// Parsed counts samples whose generated code parsed without syntax
	// errors, per side.
	BaseParsed    int `json:"base_parsed"`
	AdapterParsed int `json:"adapter_parsed"`
}

// evaluateSamples scores the code the recipe generated on the test split
// with the style engine, against a profile learned from the dataset's
// training answers (the user's own code), and writes eval.json.
func evaluateSamples(data, out string, events []Event) (*EvalResult, error) {
	res := &EvalResult{}
	for _, ev := range events {
		if ev["event"] == "evaluation" {
			res.BaseLoss, _ = num(ev, "base_loss")
			res.AdapterLoss, _ = num(ev, "adapter_loss")
		}
	}
	samplesPath := filepath.Join(out, "eval_samples.jsonl")
	f, err := os.Open(samplesPath)
	if os.IsNotExist(err) {
		return res, nil // no test split: nothing to score
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	profile, err := profileFromTrain(filepath.Join(data, "train.jsonl"))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var baseSum, adSum float64
	for sc.Scan() {
		var s struct{ Base, Adapter string }
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s: %w", samplesPath, err)
		}
		res.Samples++
		score := func(code string, parsed *int) float64 {
			r, err := style.CheckSource(profile, "sample.py", []byte(code))
			if err != nil {
				return 0
			}
			ok := true
			for _, d := range r.Diagnostics {
				if d.Rule == style.RuleSyntaxError {
					ok = false
				}
			}
			if ok {
				*parsed++
			}
			return r.Score
		}
		baseSum += score(s.Base, &res.BaseParsed)
		adSum += score(s.Adapter, &res.AdapterParsed)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if res.Samples > 0 {
		res.BaseStyle = roundTo(baseSum/float64(res.Samples), 2)
		res.AdapterStyle = roundTo(adSum/float64(res.Samples), 2)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "eval.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

func profileFromTrain(path string) (*style.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := style.NewProfile()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if r.Augmented != "" || len(r.Messages) == 0 {
			continue
		}
		_ = p.AddSource(r.ID, []byte(r.Messages[len(r.Messages)-1].Content))
	}
	return p, sc.Err()
}
