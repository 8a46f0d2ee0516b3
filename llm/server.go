package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// infoTimeout bounds each discovery request: /info and /v1/models answer
// from memory on every server, so a slow answer means a wrong endpoint.
const infoTimeout = 15 * time.Second

// getJSON fetches url and decodes a 200 answer into v; other statuses give
// an *APIError.
func (c *Client) getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, min(infoTimeout, c.cfg.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.redactErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		kind, msg := parseErrorBody(body)
		return &APIError{Status: resp.StatusCode, Type: kind, Message: c.redact(msg), URL: strings.TrimPrefix(url, c.root)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", strings.TrimPrefix(url, c.root), err)
	}
	return nil
}

type modelEntry struct {
	ID          string `json:"id"`
	OwnedBy     string `json:"owned_by"`
	MaxModelLen int    `json:"max_model_len"` // vLLM
}

func (c *Client) modelEntries(ctx context.Context) ([]modelEntry, error) {
	var list struct {
		Data []modelEntry `json:"data"`
	}
	if err := c.getJSON(ctx, c.cfg.BaseURL+"/models", &list); err != nil {
		return nil, err
	}
	return list.Data, nil
}

func (c *Client) listModels(ctx context.Context) ([]string, error) {
	entries, err := c.modelEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("llm: list models: %w", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids, nil
}

// serverInfo discovers the server: TGI answers /info; the others are told
// apart by /v1/models' owned_by (vLLM "vllm", llama.cpp "llamacpp", OpenAI
// "openai"/"system") or, for Ollama, by its /api/version route.
func (c *Client) serverInfo(ctx context.Context) (*ServerInfo, error) {
	if info := c.info.Load(); info != nil {
		return info, nil
	}
	info := &ServerInfo{Kind: c.cfg.Server}
	var tgi struct {
		ModelID        string `json:"model_id"`
		MaxInputTokens int    `json:"max_input_tokens"`
		MaxInputLength int    `json:"max_input_length"` // TGI 1.x name
		MaxTotalTokens int    `json:"max_total_tokens"`
		Version        string `json:"version"`
	}
	infoErr := c.getJSON(ctx, c.root+"/info", &tgi)
	if infoErr == nil && tgi.ModelID != "" && tgi.MaxTotalTokens > 0 {
		if info.Kind == ServerUnknown {
			info.Kind = ServerTGI
		}
		info.ModelID = tgi.ModelID
		info.MaxInputTokens = max(tgi.MaxInputTokens, tgi.MaxInputLength)
		info.MaxTotalTokens = tgi.MaxTotalTokens
		info.Version = tgi.Version
		info.LimitSource = LimitFromTGI
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("llm: server info: %w", context.Cause(ctx))
	}
	entries, modelsErr := c.modelEntries(ctx)
	for _, e := range entries {
		info.Models = append(info.Models, e.ID)
		if info.MaxTotalTokens == 0 && e.MaxModelLen > 0 {
			info.MaxTotalTokens = e.MaxModelLen
			info.LimitSource = LimitFromModels
		}
	}
	if info.ModelID == "" && len(entries) > 0 {
		info.ModelID = entries[0].ID
	}
	if info.Kind == ServerUnknown {
		info.Kind = kindFromModels(entries)
	}
	if (info.Kind == ServerLlamaCpp || info.Kind == ServerUnknown) && modelsErr == nil {
		// llama.cpp's /props: the context size per slot and the chat
		// template it applies.
		var props struct {
			NCtx     int `json:"n_ctx"`
			Defaults struct {
				NCtx int `json:"n_ctx"`
			} `json:"default_generation_settings"`
			ChatTemplate string `json:"chat_template"`
		}
		if c.getJSON(ctx, c.root+"/props", &props) == nil {
			if n := max(props.NCtx, props.Defaults.NCtx); n > 0 {
				info.Kind = ServerLlamaCpp
				if info.MaxTotalTokens == 0 {
					info.MaxTotalTokens, info.LimitSource = n, LimitFromProps
				}
			}
			info.ChatTemplate = props.ChatTemplate
		}
	}
	if info.Kind == ServerUnknown && modelsErr == nil {
		var ollama struct {
			Version string `json:"version"`
		}
		if c.getJSON(ctx, c.root+"/api/version", &ollama) == nil && ollama.Version != "" {
			info.Kind, info.Version = ServerOllama, ollama.Version
		}
	}
	if info.ModelID == "" && modelsErr != nil {
		err := modelsErr
		if infoErr != nil && !isStatus(infoErr, http.StatusNotFound) {
			err = infoErr
		}
		return nil, fmt.Errorf("llm: cannot reach a model server at %s (is it running, and does the endpoint end in /v1?): %w", c.cfg.BaseURL, err)
	}
	c.info.Store(info)
	return info, nil
}

func kindFromModels(entries []modelEntry) ServerKind {
	for _, e := range entries {
		switch strings.ToLower(e.OwnedBy) {
		case "vllm":
			return ServerVLLM
		case "llamacpp":
			return ServerLlamaCpp
		case "library", "ollama":
			return ServerOllama
		case "openai", "system", "openai-internal":
			return ServerOpenAI
		}
	}
	return ServerUnknown
}

func isStatus(err error, status int) bool {
	apiErr, ok := err.(*APIError)
	return ok && apiErr.Status == status
}

// jsonMode resolves JSONModeAuto against the server kind.
func (c *Client) jsonMode(ctx context.Context) JSONMode {
	if c.noJSON.Load() {
		return JSONModeNone
	}
	if c.cfg.JSONMode != JSONModeAuto {
		return c.cfg.JSONMode
	}
	kind := c.cfg.Server
	if kind == ServerUnknown {
		if info, err := c.serverInfo(ctx); err == nil {
			kind = info.Kind
		}
	}
	switch kind {
	case ServerTGI:
		return JSONModeTGI
	case ServerVLLM, ServerOllama, ServerLlamaCpp, ServerOpenAI:
		return JSONModeSchema
	}
	return JSONModeNone
}
