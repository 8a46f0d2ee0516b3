package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
	// The run's client settings (server_kind, json_mode, context_tokens),
	// but one attempt under the check's own timeout.
	ccfg := orchestrator.ClientConfig(cfg, key)
	ccfg.MaxRetries, ccfg.Timeout = -1, endpointCheckTimeout
	client, err := llm.New(ccfg)
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
	for _, agent := range []string{"analyzer", "planner", "implementer", "validator"} {
		if n := cfg.AgentModel(agent).Name; n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		var users []string
		for _, agent := range []string{"analyzer", "planner", "implementer", "validator"} {
			if cfg.AgentModel(agent).Name == name {
				users = append(users, agent)
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
				check.Status = checkFail
				check.Detail = fmt.Sprintf("not served (used by %s): %v", strings.Join(users, ", "), err)
				check.Fix = modelFix(info, name)
			} else {
				check.Detail = "answers (adapters are not listed by this server), used by " + strings.Join(users, ", ")
			}
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
