package llm

import "context"

// ApproxTokens estimates how many tokens s takes in a Llama-family
// tokenizer without loading one. A run of ASCII letters counts one token
// per four letters (rounded up); a word's single leading space is free (it
// is part of the word's token); other spaces and tabs count one token per
// four; every newline, digit, punctuation mark and non-ASCII character
// counts one. Llama's vocabulary holds most short English words and many
// code fragments whole, so the estimate errs high (more on identifiers and
// punctuation-heavy code than on prose), which is the safe side for fitting
// a prompt into the context window. Counts add up line by line.
func ApproxTokens(s string) int { return approxTokens(s) }

// MessagesTokens estimates a chat prompt's size: the messages' contents plus
// a few tokens per message for the chat template's role markers.
func MessagesTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += approxTokens(m.Content) + messageOverhead
	}
	return n
}

// TrimToTokens returns the longest run of whole leading lines of s whose
// ApproxTokens is at most max; when not even the first line fits, the
// longest prefix of it that does (cut between characters).
func TrimToTokens(s string, max int) string { return trimToTokens(s, max) }

// PromptBudget returns how many prompt tokens are left for a request that
// will generate up to maxNewTokens: the server's context limit (TGI /info
// max_input_tokens and max_total_tokens, vLLM max_model_len,
// Config.ContextTokens, else DefaultContextTokens) minus maxNewTokens and a
// 5% margin for the estimate's error. It never returns less than zero.
func (c *Client) PromptBudget(ctx context.Context, maxNewTokens int) (int, error) {
	return c.promptBudget(ctx, maxNewTokens)
}
