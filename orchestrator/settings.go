package orchestrator

import (
	"time"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/llm"
	"github.com/r2c-ai/r2c/paper"
)

// ClientConfig maps the model-server settings of cfg onto an llm.Config, so
// that a run and `r2c doctor` talk to the server the same way. "auto" (like
// empty) leaves server_kind and json_mode to detection.
func ClientConfig(cfg config.Config, apiKey string) llm.Config {
	auto := func(s string) string {
		if s == "auto" {
			return ""
		}
		return s
	}
	return llm.Config{
		BaseURL:       cfg.Endpoint,
		APIKey:        apiKey,
		Model:         cfg.Model.Name,
		Timeout:       cfg.Model.Timeout.D(),
		MaxInFlight:   cfg.MaxInFlight,
		MaxRetries:    cfg.MaxRetries,
		Server:        llm.ServerKind(auto(cfg.ServerKind)),
		JSONMode:      llm.JSONMode(auto(cfg.JSONMode)),
		ContextTokens: cfg.ContextTokens,
		SystemInUser:  cfg.SystemMessage == "in_user",
	}
}

// ProbeClientConfig is ClientConfig for a check of the server (r2c doctor,
// the API's /readyz): the run's settings, but one attempt under the
// check's own timeout, so an unreachable server is reported, not retried.
func ProbeClientConfig(cfg config.Config, apiKey string, timeout time.Duration) llm.Config {
	c := ClientConfig(cfg, apiKey)
	c.MaxRetries, c.Timeout = -1, timeout
	return c
}

// PaperOptions maps the [paper] settings onto paper.Options.
func PaperOptions(cfg config.Config) paper.Options {
	return paper.Options{CacheDir: cfg.Paper.CacheDir, Timeout: cfg.Paper.DownloadTimeout.D(), MaxPages: cfg.Paper.MaxPages}
}

// planRevisions is the configured bound on plan revisions; unset means
// MaxPlanRevisions.
func planRevisions(cfg config.Config) int {
	if cfg.PlanRevisions == nil {
		return MaxPlanRevisions
	}
	return *cfg.PlanRevisions
}
