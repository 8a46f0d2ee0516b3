package llm

import "sync"

// Usage counts tokens as the server reports them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// Estimated is set when the server reported no usage for some call and
	// its counts were estimated from the text (ApproxTokens) instead.
	Estimated bool `json:"estimated,omitempty"`
}

// Add returns the field-wise sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
		Estimated:        u.Estimated || v.Estimated,
	}
}

// estimateUsage stands in for a server that reported no usage, so run
// records and summaries never claim a call was free.
func estimateUsage(msgs []Message, answer string) Usage {
	u := Usage{PromptTokens: MessagesTokens(msgs), CompletionTokens: approxTokens(answer), Estimated: true}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// UsageCounter accumulates Usage; it is safe for concurrent use and its zero
// value is ready.
type UsageCounter struct {
	mu    sync.Mutex
	total Usage
	calls int
}

// Add records one call's usage.
func (c *UsageCounter) Add(u Usage) {
	c.mu.Lock()
	c.total = c.total.Add(u)
	c.calls++
	c.mu.Unlock()
}

// Total returns the sum of everything added.
func (c *UsageCounter) Total() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Calls returns how many usages were added.
func (c *UsageCounter) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
