package llm

import (
	"context"
	"fmt"

	openai "github.com/sashabaranov/go-openai"
)

func (c *Client) embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	if model == "" {
		model = c.cfg.Model
	}
	var out [][]float32
	_, err := c.withRetries(ctx, callName{"embed", model}, c.cfg.Timeout, nil, func(actx context.Context, _ *attemptState) (bool, error) {
		resp, err := c.api.CreateEmbeddings(actx, openai.EmbeddingRequestStrings{Input: inputs, Model: openai.EmbeddingModel(model)})
		if err != nil {
			return false, err
		}
		if len(resp.Data) != len(inputs) {
			return false, &invalidAnswerError{msg: fmt.Sprintf("server returned %d embeddings for %d inputs", len(resp.Data), len(inputs))}
		}
		vecs := make([][]float32, len(inputs))
		for _, d := range resp.Data {
			if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil {
				return false, &invalidAnswerError{msg: fmt.Sprintf("server returned a bad embedding index %d", d.Index)}
			}
			vecs[d.Index] = d.Embedding
		}
		out = vecs
		c.usage.Add(Usage{PromptTokens: resp.Usage.PromptTokens, TotalTokens: resp.Usage.TotalTokens})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
