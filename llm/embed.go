package llm

import "context"

// Embed returns one vector per input from the server's /v1/embeddings
// (text-embeddings-inference, vLLM, Ollama, llama.cpp --embeddings, OpenAI).
// An empty model uses Config.Model. Retries follow the same rules as Chat.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	return c.embed(ctx, model, inputs)
}
