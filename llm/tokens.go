package llm

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// messageOverhead approximates a chat template's per-message markers
// ("[INST]", role headers, BOS/EOS).
const messageOverhead = 4

func approxTokens(s string) int {
	n, letters, spaces := 0, 0, 0
	endLetters := func() {
		n += (letters + 3) / 4
		letters = 0
	}
	// A word's single leading space is part of its token ("▁word").
	endSpaces := func(beforeWord bool) {
		if beforeWord && spaces > 0 {
			spaces--
		}
		n += (spaces + 3) / 4
		spaces = 0
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			endSpaces(true)
			letters++
		case r == ' ' || r == '\t':
			endLetters()
			spaces++
		case r == '\n':
			endLetters()
			endSpaces(false)
			n++
		default:
			// Digits, punctuation and non-ASCII characters: one token each
			// (Llama splits digits; non-ASCII text often takes byte tokens).
			endLetters()
			endSpaces(true)
			n++
		}
	}
	endLetters()
	endSpaces(false)
	return n
}

func trimToTokens(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	// A newline ends every run approxTokens counts, so the count of a text
	// is the sum of the counts of its lines (newline included): whole lines
	// are kept while they fit.
	used, end := 0, 0
	for end < len(s) {
		i := strings.IndexByte(s[end:], '\n')
		next := len(s)
		if i >= 0 {
			next = end + i + 1
		}
		t := approxTokens(s[end:next])
		if used+t > limit {
			break
		}
		used += t
		end = next
	}
	if end > 0 || end == len(s) {
		return s[:end]
	}
	// Not even the first line fits: cut it at the longest rune-aligned
	// prefix that fits (binary search: the count grows with the prefix).
	starts := make([]int, 0, len(s))
	for i := range s {
		starts = append(starts, i)
	}
	lo, hi := 0, len(starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if approxTokens(s[:starts[mid]]) <= limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return s[:starts[lo]]
}

func (c *Client) promptBudget(ctx context.Context, maxNewTokens int) (int, error) {
	l, err := c.ContextLimit(ctx)
	if err != nil {
		return 0, err
	}
	if maxNewTokens <= 0 {
		maxNewTokens = c.cfg.MaxTokens
	}
	return l.Prompt(maxNewTokens) * 95 / 100, nil
}
