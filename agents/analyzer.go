package agents

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/r2c-ai/r2c/llm"
)

// AnalyzeInput is the paper text the Analyzer reads.
type AnalyzeInput struct {
	PaperTitle string
	// Section is the section's heading, e.g. "3.2 Scaled Dot-Product Attention".
	Section string
	// Text is the section as Markdown, with equations and tables.
	Text string
	// Context holds retrieved passages (other sections, the user's code),
	// most relevant first; may be empty.
	Context []string
}

func (in *AnalyzeInput) partTexts() map[PromptPart]string {
	return map[PromptPart]string{PartPassages: strings.Join(in.Context, "\n")}
}

// Analyzer reads a paper section and writes a Spec.
type Analyzer struct{ Settings }

// Analyze asks the model for the section's Spec (schema-checked, repaired
// once by the client when malformed) and normalises it.
func (a *Analyzer) Analyze(ctx context.Context, in AnalyzeInput) (*Spec, llm.Usage, error) {
	if strings.TrimSpace(in.Text) == "" {
		return nil, llm.Usage{}, errors.New("analyzer: the section has no text")
	}
	schema, err := schemaOf(SpecSchemaJSON())
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("analyzer: %w", err)
	}
	instruction, err := llm.JSONInstruction(schema)
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("analyzer: %w", err)
	}
	in.Context = slices.Clone(in.Context)
	p, err := a.fit(ctx, fitSpec{
		agent: NameAnalyzer, template: "analyzer", view: &in, schema: instruction,
		fix: "implement a smaller part (a subsection) or lower agents.analyzer.max_tokens",
		// Retrieved passages go first, the least relevant first.
		shrinkers: []shrinker{{PartPassages, dropLast(&in.Context)}}})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	var spec Spec
	usage, err := a.chatJSON(ctx, NameAnalyzer, p, schema, &spec)
	if err != nil {
		return nil, usage, fmt.Errorf("analyzer: %w", err)
	}
	if strings.TrimSpace(spec.Algorithm) == "" {
		return nil, usage, errors.New("analyzer: the model's spec names no algorithm")
	}
	spec.normalize()
	spec.noteMissingData(in.Text)
	return &spec, usage, nil
}

// dataWords mark sentences that rely on data the implementation will not
// have.
var dataWords = regexp.MustCompile(`(?i)\b(data ?sets?|corpus|corpora|training data|\w+\.(csv|jsonl?|npz|parquet|h5)|download(ed)?)\b`)

// noteMissingData makes sure data the section relies on is an explicit
// ambiguity even when the model forgot: generated code that assumes data
// files which do not exist is the most common failure of paper-to-code
// tools.
func (s *Spec) noteMissingData(text string) {
	for _, a := range s.Ambiguities {
		if dataWords.MatchString(a) || strings.Contains(strings.ToLower(a), "data") {
			return // the model already said so
		}
	}
	for _, sentence := range regexp.MustCompile(`[^.!?]+[.!?]`).FindAllString(text, -1) {
		if dataWords.MatchString(sentence) {
			sentence = strings.Join(strings.Fields(sentence), " ")
			if len(sentence) > 160 {
				sentence = sentence[:157] + "..."
			}
			s.Ambiguities = append(s.Ambiguities, fmt.Sprintf("The section relies on data that is not available to the implementation (%q); the code takes arrays as inputs and reads no files.", sentence))
			return
		}
	}
}

// pypiNames maps import names models often give to the PyPI distribution.
var pypiNames = map[string]string{
	"sklearn": "scikit-learn",
	"cv2":     "opencv-python",
	"PIL":     "pillow",
	"yaml":    "pyyaml",
	"pytorch": "torch",
	"bs4":     "beautifulsoup4",
}

// normalize makes dependencies PyPI names, drops duplicates and records
// hyper-parameters without a value as ambiguities, so a missing value is
// never silently invented later.
func (s *Spec) normalize() {
	seen := map[string]bool{}
	var deps []string
	for _, d := range s.Dependencies {
		d = strings.TrimSpace(d)
		if n, ok := pypiNames[d]; ok {
			d = n
		}
		if d != "" && !seen[strings.ToLower(d)] {
			seen[strings.ToLower(d)] = true
			deps = append(deps, d)
		}
	}
	s.Dependencies = deps
	for _, h := range s.HyperParameters {
		if strings.TrimSpace(h.Value) == "" {
			note := fmt.Sprintf("the paper gives no value for hyper-parameter %q", h.Name)
			if !containsFold(s.Ambiguities, h.Name) {
				s.Ambiguities = append(s.Ambiguities, note)
			}
		}
	}
}

func containsFold(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(strings.ToLower(s), strings.ToLower(sub)) {
			return true
		}
	}
	return false
}
