package trainer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// tokenCounter counts the tokens of a text.
type tokenCounter interface {
	Count(text string) (int, error)
	// Describe says how counts are made, for the card.
	Describe() string
}

// BytesPerToken is the estimate used without --tokenizer: one token per 3
// bytes. Llama-family tokenizers average roughly 3 to 4 bytes per token on
// Python, so the estimate errs towards counting more tokens and
// --max-tokens stays a safe bound.
const BytesPerToken = 3

type estimateCounter struct{}

func (estimateCounter) Count(text string) (int, error) {
	return (len(text) + BytesPerToken - 1) / BytesPerToken, nil
}

func (estimateCounter) Describe() string {
	return fmt.Sprintf("estimate: %d bytes per token (no --tokenizer given)", BytesPerToken)
}

// hfCounter counts with a Hugging Face tokenizer.json, read by
// github.com/sugarme/tokenizer, special tokens not added.
type hfCounter struct {
	mu   sync.Mutex // the tokenizer's caches are not safe for concurrent use
	tk   *tokenizer.Tokenizer
	desc string
}

func newHFCounter(path string) (*hfCounter, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--tokenizer: %w", err)
	}
	tk, err := loadTokenizer(path)
	if err != nil {
		return nil, usagef("--tokenizer %s: not a Hugging Face tokenizer.json this reader understands: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return &hfCounter{tk: tk, desc: "exact: tokenizer.json sha256 " + hex.EncodeToString(sum[:8])}, nil
}

// loadTokenizer reads tokenizer.json, turning the reader's panics on
// unexpected input into errors.
func loadTokenizer(path string) (tk *tokenizer.Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return pretrained.FromFile(path)
}

func (c *hfCounter) Count(text string) (n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tokenizer: %v", r)
		}
	}()
	enc, err := c.tk.EncodeSingle(text, false)
	if err != nil {
		return 0, err
	}
	return len(enc.GetIds()), nil
}

func (c *hfCounter) Describe() string { return c.desc }

// TokenStats summarises the token lengths of one split.
type TokenStats struct {
	Records int `json:"records"`
	Total   int `json:"total"`
	Min     int `json:"min"`
	Max     int `json:"max"`
	Mean    int `json:"mean"`
	P50     int `json:"p50"`
	P95     int `json:"p95"`
}

func tokenStats(lengths []int) TokenStats {
	if len(lengths) == 0 {
		return TokenStats{}
	}
	s := append([]int(nil), lengths...)
	sort.Ints(s)
	total := 0
	for _, n := range s {
		total += n
	}
	q := func(p float64) int { return s[int(p*float64(len(s)-1))] }
	return TokenStats{Records: len(s), Total: total, Min: s[0], Max: s[len(s)-1], Mean: total / len(s), P50: q(0.5), P95: q(0.95)}
}
