package agents

import (
	"fmt"
	"strings"

	"github.com/r2c-ai/r2c/llm"
)

// fit renders the prompt name from data and, while it is longer than
// s.PromptTokens, applies the shrinkers in order — each call shrinks its
// part of data (a pointer) a little more and returns false once it has
// nothing left to give, which moves on to the next. A prompt that does not
// fit after every shrinker is an error that says so, never a silently
// truncated request the server would reject or cut.
func (s Settings) fit(agent, name string, data any, fix string, shrinkers ...func() bool) ([]llm.Message, error) {
	for {
		msgs, err := render(name, data)
		if err != nil {
			return nil, err
		}
		n := llm.MessagesTokens(msgs)
		if s.PromptTokens <= 0 || n <= s.PromptTokens {
			return msgs, nil
		}
		for len(shrinkers) > 0 && !shrinkers[0]() {
			shrinkers = shrinkers[1:]
		}
		if len(shrinkers) == 0 {
			return nil, fmt.Errorf("%s: the prompt needs about %d tokens but the model server leaves %d for it (context limit minus max_tokens): %s", agent, n, s.PromptTokens, fix)
		}
	}
}

// halve shortens *text to about half (whole lines kept), then to nothing.
func halve(text *string) func() bool {
	return func() bool {
		switch {
		case *text == "":
			return false
		case len(*text) < 400:
			*text = ""
		default:
			*text = llm.TrimToTokens(*text, llm.ApproxTokens(*text)/2) + "\n[truncated to fit the model's context]"
		}
		return true
	}
}

// outline keeps only the def and class lines (with their decorators) of
// Python code: the interface another module needs, not the bodies.
func outline(src string) string {
	var keep []string
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async def ") || strings.HasPrefix(t, "class ") || strings.HasPrefix(t, "@") ||
			strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "from ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
