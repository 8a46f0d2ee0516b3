package orchestrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/llm/llmtest"
	"github.com/r2c-ai/r2c/orchestrator/orchestratortest"
	"github.com/r2c-ai/r2c/rag"
	"github.com/r2c-ai/r2c/style"
)

// The failure issue 11 reports, reproduced: a TGI-like server at 4096
// tokens of context that enforces its limit and counts with its own
// tokenizer, default settings, examples/attention's paper, style and code
// indexed, and a model that forgets the 1/sqrt(d_k) scaling and fixes it
// only when the failing test's assertion message reaches it. The loop
// passes within 3 rounds, the correction request carries the assertion
// message and the failing test's source, and no request exceeds the
// limit. At 8192 the same holds; at 3072 the code examples and the style
// summary are cut (context_trimmed events) and the failing test still
// goes through. With R2C_PROMPT_TABLE=FILE the prompts'
// sizes by part are appended to FILE for bench/orchestrator.sh.
func TestEvidenceReachesTheModelAtSmallContexts(t *testing.T) {
	needPytest(t)
	example, err := filepath.Abs("../examples/attention")
	if err != nil {
		t.Fatal(err)
	}
	profile, err := style.Learn(context.Background(), []string{example})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	for _, ctxTokens := range []int{3072, 4096, 8192} {
		t.Run(fmt.Sprint(ctxTokens), func(t *testing.T) {
			srv := llmtest.New(t, llmtest.WithInfo(llmtest.Info{ModelID: "codellama/CodeLlama-7b-Instruct-hf", MaxInputTokens: ctxTokens - 1, MaxTotalTokens: ctxTokens}),
				llmtest.WithTokenizer(), llmtest.WithEnforcedLimit(ctxTokens, ctxTokens-1))
			const assertion = "Not equal to tolerance"
			srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask, assertion, "def test_known_values_use_sqrt_dk_scaling"),
				llmtest.Reply{Content: orchestratortest.Answer(t, orchestratortest.FixedAttention)})
			srv.On(orchestratortest.UserContains(orchestratortest.AttentionTask), llmtest.Reply{Content: orchestratortest.Answer(t, orchestratortest.UnscaledAttention)})
			orchestratortest.Script(t, srv)

			cfg := testConfig(t, srv.URL())
			cfg.Index.Dir = filepath.Join(t.TempDir(), "index")
			emb, err := rag.EmbedderFromConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ix, err := rag.Create(cfg.Index.Dir, emb)
			if err != nil {
				t.Fatal(err)
			}
			paperPath := filepath.Join(example, "paper.md")
			if _, err := ix.Update(context.Background(), rag.Sources{Papers: []string{paperPath}, Code: []string{example}}, rag.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}

			log := &eventLog{}
			res, err := Run(context.Background(), Request{Paper: paperPath, Section: "3.2", Config: cfg, Profile: profile}, log)
			if err != nil || res.Status != StatusPassed || res.Rounds > 3 {
				t.Fatalf("%v; status %s after %d rounds", err, res.Status, res.Rounds)
			}
			correction := 0
			for _, r := range srv.ChatRequests() {
				// At 3072 the Analyzer's repair round (its malformed first
				// answer and the error appended to a prompt that filled the
				// context) is too long: the server's 422 makes the agent
				// build the prompt again, once. Nothing else may exceed.
				repair := strings.Contains(r.LastUser(), "Your answer is not valid")
				if r.MaxTokens+llmtest.PromptTokens(r.Messages) > ctxTokens && !(repair && ctxTokens < 4096) {
					t.Errorf("a request of %d + %d tokens reached a %d-token server", llmtest.PromptTokens(r.Messages), r.MaxTokens, ctxTokens)
				}
				if strings.Contains(r.LastUser(), orchestratortest.AttentionTask) && strings.Contains(r.LastUser(), "failed validation") {
					correction++
					if !strings.Contains(r.LastUser(), assertion) || !strings.Contains(r.LastUser(), "def test_known_values_use_sqrt_dk_scaling") {
						t.Errorf("the correction request lacks the failing test:\n%s", r.LastUser())
					}
				}
			}
			if correction == 0 {
				t.Fatal("no correction request")
			}
			rec, err := LoadRun(cfg.RunsDir, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Prompts) == 0 {
				t.Fatal("run.json has no prompt reports")
			}
			trims := 0
			for _, p := range rec.Prompts {
				if !p.Exact || p.Prompt+p.MaxTokens > ctxTokens || p.Limit.Total != ctxTokens {
					t.Errorf("prompt report %+v", p)
				}
				for _, tr := range p.Trims {
					trims++
					if !log.has(string(tr.Agent), EventContextTrimmed, string(tr.Part)) {
						t.Errorf("cut %+v is not an event", tr)
					}
				}
				if p.Agent == agents.NameImplementer && p.Round > 1 && p.TaskID == "attention" && p.Parts[agents.PartFailingTest] == 0 {
					t.Errorf("a correction prompt without its failing test: %+v", p)
				}
			}
			writeTable(&table, ctxTokens, rec.Prompts, trims)
		})
	}
	if path := os.Getenv("R2C_PROMPT_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeTable prints one context's prompts: tokens sent per agent and
// round by part, the answer's max_tokens, and the time spent building.
func writeTable(b *strings.Builder, ctxTokens int, prompts []PromptRecord, trims int) {
	parts := agents.PromptParts()
	short := map[agents.PromptPart]string{
		agents.PartTask: "task", agents.PartSchema: "schema", agents.PartFailingTest: "failing", agents.PartMoreFailures: "more_f",
		agents.PartCurrentCode: "code", agents.PartDependencies: "deps", agents.PartStyle: "style", agents.PartPassages: "passages",
		agents.PartExamples: "examples", agents.PartAnswer: "answer",
	}
	type key struct {
		round int
		agent agents.Name
	}
	sums := map[key]map[agents.PromptPart]int{}
	counts := map[key]int{}
	var build time.Duration
	for _, p := range prompts {
		k := key{p.Round, p.Agent}
		if sums[k] == nil {
			sums[k] = map[agents.PromptPart]int{}
		}
		for part, n := range p.Parts {
			sums[k][part] += n
		}
		sums[k]["prompt"] += p.Prompt
		counts[k]++
		build += p.Build
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	order := map[agents.Name]int{}
	for i, n := range agents.Names() {
		order[n] = i
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].round != keys[j].round {
			return keys[i].round < keys[j].round
		}
		return order[keys[i].agent] < order[keys[j].agent]
	})
	fmt.Fprintf(b, "context %d tokens (server tokenizer): %d prompts, %d cuts, %s building prompts\n", ctxTokens, len(prompts), trims, build.Round(time.Microsecond))
	fmt.Fprintf(b, "%-5s %-11s %5s", "round", "agent", "calls")
	for _, p := range parts {
		fmt.Fprintf(b, " %8s", short[p])
	}
	fmt.Fprintf(b, " %8s\n", "prompt")
	for _, k := range keys {
		fmt.Fprintf(b, "%-5d %-11s %5d", k.round, k.agent, counts[k])
		for _, p := range parts {
			fmt.Fprintf(b, " %8d", sums[k][p])
		}
		fmt.Fprintf(b, " %8d\n", sums[k]["prompt"])
	}
	b.WriteString("\n")
}
