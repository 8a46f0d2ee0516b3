// Package llm is r2c's client for OpenAI-compatible chat-completion servers.
//
// The primary target is Hugging Face text-generation-inference (TGI) serving
// a code model with the user's LoRA adapters: on TGI's OpenAI route the
// request's "model" field selects an adapter and "tgi" means the base model.
// vLLM, Ollama and llama.cpp's server are reached through the same code.
//
// The client adds what agents need on top of github.com/sashabaranov/go-openai:
// a bound on concurrent requests (so a TGI server can batch them), retries with
// exponential backoff and jitter on connection errors, 429 and 5xx (honouring
// Retry-After, never retrying other 4xx answers), streaming with per-token
// callbacks, per-call and aggregate token usage, structured JSON answers
// validated against a schema (with the server's constrained decoding where it
// offers one, and one repair round), code extraction from chatty answers, the
// server's context limit and a prompt budget, and embeddings.
//
// Each attempt is bounded by Config.Timeout (or Request.Timeout) through
// its connection's read deadline, not a context deadline, which cost
// net/http more per request than the rest of the client; for that the
// client speaks HTTP/1.1 only, as every model server does.
//
// The API key is sent only in the Authorization header: it never appears in
// errors or logs, even when a server echoes it back.
package llm
