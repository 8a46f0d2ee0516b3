package agents

import (
	"context"
	"errors"
	"fmt"
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

// Analyzer reads a paper section and writes a Spec.
type Analyzer struct{ Settings }

// Analyze asks the model for the section's Spec (schema-checked, repaired
// once by the client when malformed) and normalises it.
func (a *Analyzer) Analyze(ctx context.Context, in AnalyzeInput) (*Spec, llm.Usage, error) {
	if strings.TrimSpace(in.Text) == "" {
		return nil, llm.Usage{}, errors.New("analyzer: the section has no text")
	}
	msgs, err := a.fit("analyzer", "analyzer", &in, "implement a smaller part (a subsection), or start the server with a longer context (TGI --max-input-tokens/--max-total-tokens, vLLM --max-model-len) or lower model.max_tokens",
		func() bool { // retrieved passages go first, least relevant first
			if len(in.Context) == 0 {
				return false
			}
			in.Context = in.Context[:len(in.Context)-1]
			return true
		})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	schema, err := schemaOf(SpecSchemaJSON())
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("analyzer: %w", err)
	}
	var spec Spec
	usage, err := a.chatJSON(ctx, "analyzer", msgs, schema, &spec)
	if err != nil {
		return nil, usage, fmt.Errorf("analyzer: %w", err)
	}
	if strings.TrimSpace(spec.Algorithm) == "" {
		return nil, usage, errors.New("analyzer: the model's spec names no algorithm")
	}
	spec.normalize()
	return &spec, usage, nil
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
