package llm_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/r2c-ai/r2c/llm"
)

func TestApproxTokensProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdefghij     \n\t0123(),.:_=éλ✓")
	randomText := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 200 {
		s := randomText(rng.IntN(300))
		n := llm.ApproxTokens(s)
		// Never more tokens than characters; every token covers at most four
		// visible characters.
		visible := utf8.RuneCountInString(strings.Join(strings.Fields(s), ""))
		if n > utf8.RuneCountInString(s) || 4*n < visible {
			t.Fatalf("%q: %d tokens", s, n)
		}
		// Counts add up line by line, which is what trimming relies on.
		sum := 0
		for _, line := range strings.SplitAfter(s, "\n") {
			sum += llm.ApproxTokens(line)
		}
		if sum != n {
			t.Fatalf("%q: %d != sum of lines %d", s, n, sum)
		}
		// Trimming gives a prefix that fits, and one more line would not.
		limit := rng.IntN(n + 2)
		trimmed := llm.TrimToTokens(s, limit)
		if !strings.HasPrefix(s, trimmed) || llm.ApproxTokens(trimmed) > limit {
			t.Fatalf("trim(%q, %d) = %q (%d tokens)", s, limit, trimmed, llm.ApproxTokens(trimmed))
		}
		if rest := s[len(trimmed):]; rest != "" && strings.HasSuffix(trimmed, "\n") {
			next, _, _ := strings.Cut(rest, "\n")
			if llm.ApproxTokens(trimmed+next+"\n") <= limit && strings.Contains(rest, "\n") {
				t.Fatalf("trim(%q, %d) stopped early at %q", s, limit, trimmed)
			}
		}
	}
	long := strings.Repeat("x", 10000)
	if got := llm.TrimToTokens(long, 10); len(got) != 40 {
		t.Errorf("cutting one long line: %d bytes", len(got))
	}
	if llm.TrimToTokens("abc", 0) != "" || llm.TrimToTokens("abc", 5) != "abc" {
		t.Error("edge cases")
	}
}

func TestApproxTokensKnownSentences(t *testing.T) {
	// Counted by hand with the documented rule.
	cases := map[string]int{
		"Hello world":            4,  // hel|lo + wor|ld, spaces before words free
		"the cat sat on the mat": 6,  // six short words
		"x = torch.zeros(3, 4)":  12, // x, =, tor|ch, ., zer|os, (, 3, ",", 4, )
	}
	for s, want := range cases {
		if got := llm.ApproxTokens(s); got != want {
			t.Errorf("%q: %d, want %d", s, got, want)
		}
	}
	if llm.MessagesTokens([]llm.Message{{Content: "Hello world"}, {Content: ""}}) != 4+2*4 {
		t.Error("message overhead")
	}
}
