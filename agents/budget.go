package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/llm"
)

// PromptPart names one kind of content in a prompt. Prompts are built against
// the server's real context limit in this fixed priority, highest first;
// when a prompt does not fit, the lowest-priority parts are cut first:
//
//  1. PartTask and PartSchema: the system text, the task, the spec, the
//     interfaces the plan fixed and the JSON-schema instruction. Never cut.
//  2. PartFailingTest: in a correction round, the first failing test's
//     source, its assertion message and its traceback frames in the run's
//     own files. Never cut.
//  3. PartMoreFailures: the other failing tests, the last cut first.
//  4. PartCurrentCode: the code being corrected.
//  5. PartDependencies: the bodies of modules already written (their
//     interfaces stay, as part of the task).
//  6. PartStyle: the user's style summary and the style diagnostics.
//  7. PartPassages: retrieved paper passages.
//  8. PartExamples: retrieved examples of the user's code.
//
// PartAnswer is the answer's max_tokens, which is lowered (down to the
// agent's minimum answer) before anything optional is cut.
type PromptPart string

// Prompt parts.
const (
	PartTask         PromptPart = "task"
	PartSchema       PromptPart = "schema"
	PartFailingTest  PromptPart = "failing_test"
	PartMoreFailures PromptPart = "more_failures"
	PartCurrentCode  PromptPart = "current_code"
	PartDependencies PromptPart = "dependency_code"
	PartStyle        PromptPart = "style"
	PartPassages     PromptPart = "paper_passages"
	PartExamples     PromptPart = "code_examples"
	PartAnswer       PromptPart = "answer"
)

// PromptParts lists every part in priority order (PartAnswer last).
func PromptParts() []PromptPart {
	return []PromptPart{PartTask, PartSchema, PartFailingTest, PartMoreFailures, PartCurrentCode, PartDependencies, PartStyle, PartPassages, PartExamples, PartAnswer}
}

// Answer lengths per agent: the default max_tokens, and the shortest
// answer the prompt may squeeze it to. A spec or a plan is a few hundred
// tokens of JSON, a module or a test file rarely more than 800.
var (
	defaultMaxTokens = map[Name]int{NameAnalyzer: 1024, NamePlanner: 1024, NameImplementer: 1280, NameValidator: 1536}
	minMaxTokens     = map[Name]int{NameAnalyzer: 512, NamePlanner: 512, NameImplementer: 640, NameValidator: 768}
)

// DefaultMaxTokens is an agent's answer bound when none is configured.
func DefaultMaxTokens(agent Name) int { return defaultMaxTokens[agent] }

// MinMaxTokens is the shortest answer bound an agent's prompt may lower
// max_tokens to before optional context is cut.
func MinMaxTokens(agent Name) int { return minMaxTokens[agent] }

// Budgeter is what prompt building needs from the model client (an
// *llm.Client is one): the server's limit and its token counts.
type Budgeter interface {
	ContextLimit(ctx context.Context) (llm.ContextLimit, error)
	CountTokens(ctx context.Context, text string) llm.TokenCount
}

// Trim is one cut made to fit a prompt: the context_trimmed event.
type Trim struct {
	Agent  Name       `json:"agent"`
	TaskID string     `json:"task_id,omitempty"`
	Part   PromptPart `json:"part"`
	// Tokens is how many tokens the cut removed.
	Tokens int `json:"tokens"`
}

func (t Trim) String() string {
	who := string(t.Agent)
	if t.TaskID != "" {
		who += " " + t.TaskID
	}
	return fmt.Sprintf("%s: cut %s (%d tokens) to fit the model's context", who, t.Part, t.Tokens)
}

// PromptReport describes one prompt as it was sent.
type PromptReport struct {
	Agent  Name   `json:"agent"`
	TaskID string `json:"task_id,omitempty"`
	// Parts are the tokens of each part as sent; PartAnswer is max_tokens.
	Parts map[PromptPart]int `json:"parts"`
	// Prompt is the whole prompt's tokens, MaxTokens the answer's bound.
	Prompt    int              `json:"prompt"`
	MaxTokens int              `json:"max_tokens"`
	Limit     llm.ContextLimit `json:"limit"`
	// Exact is true when the server's tokenizer counted, false for the
	// estimate (llm.ApproxTokens).
	Exact bool   `json:"exact"`
	Trims []Trim `json:"trims,omitempty"`
	// Build is the time spent building and counting the prompt.
	Build time.Duration `json:"build"`
}

// ErrContextTooSmall is wrapped by the error of a prompt whose mandatory
// part (task, interfaces, failing test) and shortest answer alone exceed
// the server's limit.
var ErrContextTooSmall = errors.New("the model's context is too small")

// BudgetError says why a prompt cannot fit, with the numbers.
type BudgetError struct {
	Agent     Name
	TaskID    string
	Mandatory int // tokens of what cannot be cut
	MinAnswer int
	Limit     llm.ContextLimit
	Exact     bool
	Fix       string
}

func (e *BudgetError) Error() string {
	who := string(e.Agent)
	if e.TaskID != "" {
		who += " task " + e.TaskID
	}
	counted := "estimated"
	if e.Exact {
		counted = "counted by the server's tokenizer"
	}
	room := e.Limit.Prompt(e.MinAnswer)
	return fmt.Sprintf("%s: %v: the prompt's mandatory part needs %d tokens (%s) and the answer at least %d, but the server's limit (%s) leaves %d for the prompt (total %d, input %d): %s",
		who, ErrContextTooSmall, e.Mandatory, counted, e.MinAnswer, e.Limit.Source, room, e.Limit.Total, e.Limit.Input, e.Fix)
}

func (e *BudgetError) Unwrap() error { return ErrContextTooSmall }

// contextFix is the part of every BudgetError's fix that is the same for
// all agents.
const contextFix = "start the server with a longer context (TGI --max-input-tokens/--max-total-tokens, vLLM --max-model-len, llama.cpp -c) or, if it allows more than it reports, set model.context_tokens"

// shrinker cuts a little more of one part each call and returns false once
// that part has nothing left to give.
type shrinker struct {
	part PromptPart
	step func() bool
}

// partsView is a template view that can say what each of its parts holds.
type partsView interface {
	partTexts() map[PromptPart]string
}

// prompt is a prompt that fits, with what is needed to build it again
// smaller (after the server revealed a lower limit).
type prompt struct {
	msgs      []llm.Message
	maxTokens int
	refit     func(ctx context.Context) (*prompt, error)
	// followUp marks a repair that grew a fitted prompt: the client
	// lowers max_tokens to what the context leaves.
	followUp bool
}

// fitSpec is one agent's prompt to build.
type fitSpec struct {
	agent    Name
	taskID   string
	template string
	view     partsView
	// schema is the JSON-schema instruction ChatJSON will append ("" for
	// code answers), counted as PartSchema.
	schema    string
	fix       string
	shrinkers []shrinker
}

// margin leaves room for the chat template's own tokens, which neither
// count sees exactly, and, for an estimate, for its error.
func margin(n int, exact bool) int {
	if exact {
		return 16 + n/100
	}
	return 16 + n/20
}

// fit renders the prompt and, while it and the agent's shortest answer do
// not fit the server's limit, cuts the lowest-priority part still present
// (every cut reported as a Trim). max_tokens is then the configured or
// default answer bound, lowered to what the context leaves. A model client
// that is not a Budgeter (a test double) gets no limit.
func (s Settings) fit(ctx context.Context, f fitSpec) (*prompt, error) {
	start := time.Now()
	want := s.MaxTokens
	if want <= 0 {
		want = defaultMaxTokens[f.agent]
	}
	floor := min(want, minMaxTokens[f.agent])
	if floor <= 0 {
		floor = want
	}
	budget, budgeted := s.Model.(Budgeter)
	var limit llm.ContextLimit
	if budgeted {
		var err error
		if limit, err = budget.ContextLimit(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", f.agent, err)
		}
	}
	count := func(text string) llm.TokenCount {
		if budgeted {
			return budget.CountTokens(ctx, text)
		}
		return llm.TokenCount{Tokens: llm.ApproxTokens(text)}
	}
	countMsgs := func(msgs []llm.Message) llm.TokenCount {
		total := llm.TokenCount{Exact: true}
		for _, m := range msgs {
			n := count(m.Content)
			total.Tokens += n.Tokens + 4 // the chat template's role markers
			total.Exact = total.Exact && n.Exact
		}
		if f.schema != "" {
			n := count(f.schema)
			total.Tokens += n.Tokens
			total.Exact = total.Exact && n.Exact
		}
		return total
	}
	var trims []Trim
	shrinkers := f.shrinkers
	for {
		msgs, err := render(f.template, f.view)
		if err != nil {
			return nil, err
		}
		n := countMsgs(msgs)
		if len(trims) > 0 && trims[len(trims)-1].Tokens < 0 {
			// The cut just made: its size is what the prompt lost.
			trims[len(trims)-1].Tokens = -trims[len(trims)-1].Tokens - n.Tokens
		}
		if !budgeted || n.Tokens+margin(n.Tokens, n.Exact) <= limit.Prompt(floor) {
			maxTokens := want
			if budgeted {
				maxTokens = min(want, limit.Total-n.Tokens-margin(n.Tokens, n.Exact))
			}
			trims = mergeTrims(trims)
			if s.OnPrompt != nil {
				s.OnPrompt(s.report(f, msgs, count, n, maxTokens, limit, trims, time.Since(start)))
			}
			p := &prompt{msgs: msgs, maxTokens: maxTokens}
			p.refit = func(ctx context.Context) (*prompt, error) { return s.fit(ctx, f) }
			return p, nil
		}
		for len(shrinkers) > 0 && !shrinkers[0].step() {
			shrinkers = shrinkers[1:]
		}
		if len(shrinkers) == 0 {
			return nil, &BudgetError{Agent: f.agent, TaskID: f.taskID, Mandatory: n.Tokens + margin(n.Tokens, n.Exact), MinAnswer: floor, Limit: limit, Exact: n.Exact, Fix: f.fix + ", or " + contextFix}
		}
		// Negative until the next count says how much the cut removed.
		trims = append(trims, Trim{Agent: f.agent, TaskID: f.taskID, Part: shrinkers[0].part, Tokens: -n.Tokens})
	}
}

// mergeTrims joins consecutive cuts of the same part into one.
func mergeTrims(trims []Trim) []Trim {
	var out []Trim
	for _, t := range trims {
		if n := len(out); n > 0 && out[n-1].Part == t.Part {
			out[n-1].Tokens += t.Tokens
			continue
		}
		out = append(out, t)
	}
	return out
}

func (s Settings) report(f fitSpec, msgs []llm.Message, count func(string) llm.TokenCount, n llm.TokenCount, maxTokens int, limit llm.ContextLimit, trims []Trim, build time.Duration) PromptReport {
	r := PromptReport{Agent: f.agent, TaskID: f.taskID, Parts: map[PromptPart]int{}, Prompt: n.Tokens, MaxTokens: maxTokens, Limit: limit, Exact: n.Exact, Trims: trims, Build: build}
	rest := n.Tokens
	for part, text := range f.view.partTexts() {
		if text == "" {
			continue
		}
		t := count(text).Tokens
		r.Parts[part] += t
		rest -= t
	}
	if f.schema != "" {
		t := count(f.schema).Tokens
		r.Parts[PartSchema] = t
		rest -= t
	}
	r.Parts[PartTask] += max(rest, 0)
	r.Parts[PartAnswer] = maxTokens
	return r
}

// halve shortens *text to about half (whole lines kept), then to nothing.
func halve(text *string) func() bool {
	return func() bool {
		switch {
		case *text == "":
			return false
		case len(*text) < 400:
			*text = ""
		default:
			*text = llm.TrimToTokens(*text, llm.ApproxTokens(*text)/2) + "\n[truncated to fit the model's context]"
		}
		return true
	}
}

// dropLast removes the last element of *list, one per call.
func dropLast[T any](list *[]T) func() bool {
	return func() bool {
		if len(*list) == 0 {
			return false
		}
		*list = (*list)[:len(*list)-1]
		return true
	}
}

// clear empties *text in one cut.
func clearText(text *string) func() bool {
	return func() bool {
		if *text == "" {
			return false
		}
		*text = ""
		return true
	}
}

// outline keeps only the def and class lines (with their decorators) of
// Python code: the interface another module needs, not the bodies.
func outline(src string) string {
	var keep []string
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async def ") || strings.HasPrefix(t, "class ") || strings.HasPrefix(t, "@") ||
			strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "from ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// FixedPrompt is what every prompt of an agent holds whatever the paper:
// its system text (without a style summary) and, for the Analyzer and the
// Planner, the JSON-schema instruction. `r2c doctor` compares it with the
// server's limit.
func FixedPrompt(agent Name) (string, error) {
	var (
		view   any
		schema json.RawMessage
	)
	switch agent {
	case NameAnalyzer:
		view, schema = &AnalyzeInput{}, SpecSchemaJSON()
	case NamePlanner:
		view, schema = &PlanInput{}, PlanSchemaJSON()
	case NameImplementer:
		view = &implementView{}
	case NameValidator:
		view = &testView{}
	default:
		return "", fmt.Errorf("unknown agent %q", agent)
	}
	var b bytes.Buffer
	if err := prompts.ExecuteTemplate(&b, string(agent)+"_system.tmpl", view); err != nil {
		return "", fmt.Errorf("prompt %s: %w", agent, err)
	}
	if schema == nil {
		return b.String(), nil
	}
	s, err := schemaOf(schema)
	if err != nil {
		return "", err
	}
	note, err := llm.JSONInstruction(s)
	if err != nil {
		return "", err
	}
	return b.String() + note, nil
}
