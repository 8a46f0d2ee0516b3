package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/r2c-ai/r2c/agents"
	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/orchestrator"
)

// endpointCheckTimeout bounds the whole endpoint check: a server that does
// not answer /info in this time is as good as unreachable for a doctor.
const endpointCheckTimeout = 20 * time.Second

// checkEndpoint checks the model server: reachable (/info or /v1/models),
// and every model or LoRA adapter the agents are configured to use is
// served — listed by /v1/models, or, on TGI where adapters are not listed,
// answering a one-token request.
func checkEndpoint(ctx context.Context, env *doctorEnv) []checkResult {
	cfg := env.cfg
	startFix := "start the model server (TGI: text-generation-launcher --model-id MODEL --lora-adapters name=/path; vLLM: vllm serve MODEL --enable-lora --lora-modules name=/path) or point r2c at it with endpoint in r2c.toml, R2C_ENDPOINT or --endpoint"
	key, err := cfg.APIKey()
	if err != nil {
		return []checkResult{{Name: "endpoint", Status: checkFail, Detail: err.Error(), Fix: "make api_key_file readable or unset it"}}
	}
	client, err := llm.New(orchestrator.ProbeClientConfig(cfg, key, endpointCheckTimeout))
	if err != nil {
		return []checkResult{{Name: "endpoint", Status: checkFail, Detail: err.Error(), Fix: "set endpoint to the server's OpenAI-compatible base URL, e.g. http://localhost:8080/v1"}}
	}
	ctx, cancel := context.WithTimeout(ctx, endpointCheckTimeout)
	defer cancel()
	info, err := client.Info(ctx)
	if err != nil {
		return []checkResult{{Name: "endpoint", Status: checkFail, Detail: fmt.Sprintf("%s is not reachable: %v", cfg.Endpoint, err), Fix: startFix}}
	}
	kind := string(info.Kind)
	if kind == "" {
		kind = "OpenAI-compatible server"
	}
	detail := fmt.Sprintf("%s at %s serves %s", kind, cfg.Endpoint, info.ModelID)
	if info.MaxInputTokens > 0 {
		detail += fmt.Sprintf(" (prompts up to %d tokens)", info.MaxInputTokens)
	}
	out := []checkResult{{Name: "endpoint", Status: checkOK, Detail: detail}}

	var names []string
	for _, agent := range agents.Names() {
		if n := cfg.AgentModel(string(agent)).Name; n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	modelOK := true
	for _, name := range names {
		var users []string
		for _, agent := range agents.Names() {
			if cfg.AgentModel(string(agent)).Name == name {
				users = append(users, string(agent))
			}
		}
		check := checkResult{Name: fmt.Sprintf("model %q", name), Status: checkOK}
		switch {
		case slices.Contains(info.Models, name):
			check.Detail = "listed by the server, used by " + strings.Join(users, ", ")
		case info.Kind == llm.ServerTGI && name == "tgi":
			check.Detail = "TGI's base model " + info.ModelID + ", used by " + strings.Join(users, ", ")
		default:
			if err := client.CheckModel(ctx, name); err != nil {
				modelOK = false
				check.Status = checkFail
				check.Detail = fmt.Sprintf("not served (used by %s): %v", strings.Join(users, ", "), err)
				check.Fix = modelFix(info, name)
			} else {
				check.Detail = "answers (adapters are not listed by this server), used by " + strings.Join(users, ", ")
			}
		}
		out = append(out, check)
	}
	if modelOK && len(names) > 0 {
		out = append(out, checkChatTemplate(ctx, client, info, names[0]), checkStreaming(ctx, client, names[0]))
	}
	return append(out, checkBudgets(ctx, client, cfg)...)
}

// checkChatTemplate sends a system and a user message, as every agent
// does: a server without a chat template for the model refuses them.
func checkChatTemplate(ctx context.Context, client *llm.Client, info *llm.ServerInfo, model string) checkResult {
	check := checkResult{Name: "chat template", Status: checkOK}
	greedy := float32(0)
	_, err := client.Chat(ctx, llm.Request{Model: model, Temperature: &greedy, MaxTokens: 1, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You answer briefly."}, {Role: llm.RoleUser, Content: "Say OK."}}})
	switch {
	case err != nil && strings.Contains(strings.ToLower(err.Error()), "template"):
		check.Status, check.Detail = checkFail, fmt.Sprintf("the server cannot apply a chat template to system and user messages: %v", err)
		check.Fix = "serve a model whose tokenizer_config.json has a chat_template (instruct or chat models), or give the server one (vLLM --chat-template FILE, llama.cpp --jinja or --chat-template NAME)"
	case err != nil:
		check.Status, check.Detail = checkWarn, fmt.Sprintf("a system + user request failed: %v", err)
		check.Fix = "see the server's log for the request"
	case info.ChatTemplate != "":
		check.Detail = fmt.Sprintf("system and user messages accepted (template of %d characters from /props)", len(info.ChatTemplate))
	default:
		check.Detail = "system and user messages accepted"
	}
	return check
}

// checkStreaming asks for a streamed answer, as every agent does.
func checkStreaming(ctx context.Context, client *llm.Client, model string) checkResult {
	check := checkResult{Name: "streaming", Status: checkOK}
	greedy := float32(0)
	deltas := 0
	_, err := client.Chat(ctx, llm.Request{Model: model, Temperature: &greedy, MaxTokens: 4, Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say OK."}},
		OnToken: func(string) { deltas++ }})
	switch {
	case err != nil:
		check.Status, check.Detail = checkWarn, fmt.Sprintf("a streamed request failed: %v", err)
		check.Fix = "see the server's log; r2c falls back to plain requests when a server refuses to stream"
	case client.StreamingRefused():
		check.Status, check.Detail = checkWarn, "the server refuses streamed requests: r2c sends plain ones, and progress shows each answer's tokens only when it is complete"
		check.Fix = "use a server version that streams (TGI, vLLM, llama.cpp and Ollama all do), or a proxy that passes text/event-stream through"
	default:
		check.Detail = fmt.Sprintf("answers stream (%d deltas for a short answer)", deltas)
	}
	return check
}

// checkBudgets compares the server's real input limit with what each
// agent needs at least: its fixed prompt (system text, schema
// instruction), counted with the server's tokenizer where it has one, and
// its shortest answer. Below twice that the paper's text, the plan and
// the failing tests will often not fit.
func checkBudgets(ctx context.Context, client *llm.Client, cfg config.Config) []checkResult {
	limit, err := client.ContextLimit(ctx)
	if err != nil {
		return []checkResult{{Name: "context", Status: checkWarn, Detail: err.Error(), Fix: "set model.context_tokens to the server's context length"}}
	}
	var out []checkResult
	for _, agent := range agents.Names() {
		check := checkResult{Name: "context for " + string(agent), Status: checkOK}
		fixed, err := agents.FixedPrompt(agent)
		if err != nil {
			check.Status, check.Detail = checkFail, err.Error()
			out = append(out, check)
			continue
		}
		n := client.CountTokens(ctx, fixed)
		counted := "counted by the server's tokenizer"
		if !n.Exact {
			counted = "estimated: the server offers no /tokenize"
		}
		answer := cfg.AgentModel(string(agent)).MaxTokens
		if answer <= 0 {
			answer = agents.DefaultMaxTokens(agent)
		}
		floor := min(answer, agents.MinMaxTokens(agent))
		room := limit.Prompt(floor)
		check.Detail = fmt.Sprintf("limit %d tokens (%s); fixed prompt %d tokens (%s); answer up to %d, at least %d; %d tokens left for the paper, plan, code and evidence",
			limit.Total, limit.Source, n.Tokens, counted, answer, floor, max(room-n.Tokens, 0))
		grow := "start the server with a longer context (TGI --max-input-tokens/--max-total-tokens, vLLM --max-model-len, llama.cpp -c)"
		switch {
		case n.Tokens+floor > limit.Total || n.Tokens >= room:
			check.Status, check.Fix = checkFail, grow
		case room < 2*n.Tokens+floor:
			check.Status = checkWarn
			check.Fix = grow + ": at this size long sections, plans or failing tests are cut (context_trimmed events) or refused"
		}
		out = append(out, check)
	}
	return out
}

func modelFix(info *llm.ServerInfo, name string) string {
	var load string
	switch info.Kind {
	case llm.ServerTGI:
		load = fmt.Sprintf("load the adapter with text-generation-launcher --lora-adapters %s=/path/to/adapter", name)
	case llm.ServerVLLM:
		load = fmt.Sprintf("serve it with vllm serve %s --enable-lora --lora-modules %s=/path/to/adapter", info.ModelID, name)
	default:
		load = fmt.Sprintf("make the server serve %q", name)
	}
	if len(info.Models) > 0 {
		return fmt.Sprintf("%s, or set model.name (or agents.<agent>.name) to one of: %s", load, strings.Join(info.Models, ", "))
	}
	return load + `, or set model.name to "tgi" for TGI's base model`
}
