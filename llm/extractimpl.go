package llm

import (
	"strings"
)

// specialTokens are removed from answers. Longer tokens come first so that
// "<|im_end|>" is not half-removed by a shorter one.
var specialTokens = []string{
	"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
	"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_separator|>",
	"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>",
	"<|assistant|>", "<|system|>", "<|user|>", "<|end|>",
	"<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<start_of_turn>", "<end_of_turn>",
	"<</SYS>>", "<<SYS>>", "[/INST]", "[INST]",
	"<PRE>", "<SUF>", "<MID>", "<EOT>", "<eos>", "<bos>", "<pad>", "<unk>",
	"</s>", "<s>",
}

var specialReplacer = func() *strings.Replacer {
	// CodeLlama's infilling format is "<PRE> {prefix} <SUF>{suffix} <MID>":
	// the spaces next to those tokens belong to the format, not the code.
	pairs := []string{"<PRE> ", "", " <SUF>", "", " <MID>", ""}
	for _, t := range specialTokens {
		pairs = append(pairs, t, "")
	}
	return strings.NewReplacer(pairs...)
}()

func stripSpecialTokens(s string) string { return specialReplacer.Replace(s) }

type codeBlock struct {
	lang   string
	body   string
	closed bool
}

// fencedBlocks finds ``` (or ~~~) fenced blocks and CodeLlama's
// [PYTHON]...[/PYTHON] blocks, in order.
func fencedBlocks(s string) []codeBlock {
	var blocks []codeBlock
	lines := strings.SplitAfter(s, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		fence := ""
		switch {
		case strings.HasPrefix(trimmed, "```"):
			fence = "```"
		case strings.HasPrefix(trimmed, "~~~"):
			fence = "~~~"
		default:
			continue
		}
		lang := strings.ToLower(strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])))
		if f := strings.Fields(lang); len(f) > 0 {
			lang = strings.Trim(f[0], "{}.")
		}
		var body strings.Builder
		closed := false
		j := i + 1
		for ; j < len(lines); j++ {
			if t := strings.TrimSpace(lines[j]); strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				closed = true
				break
			}
			body.WriteString(lines[j])
		}
		blocks = append(blocks, codeBlock{lang: lang, body: body.String(), closed: closed})
		i = j
	}
	rest := s
	for {
		open := strings.Index(rest, "[PYTHON]")
		if open < 0 {
			break
		}
		rest = rest[open+len("[PYTHON]"):]
		end := strings.Index(rest, "[/PYTHON]")
		if end < 0 {
			blocks = append(blocks, codeBlock{lang: "python", body: rest})
			break
		}
		blocks = append(blocks, codeBlock{lang: "python", body: rest[:end], closed: true})
		rest = rest[end+len("[/PYTHON]"):]
	}
	return blocks
}

func isPythonLang(lang string) bool {
	switch lang {
	case "python", "py", "python3", "py3":
		return true
	}
	return false
}

// fencesOnOwnLines moves a fence that follows other text on its line, as in
// "[/INST] ```python" or "return x```", to the start of a new line.
func fencesOnOwnLines(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); i++ {
		if s[i] != '`' && s[i] != '~' {
			continue
		}
		if s[i:i+3] != "```" && s[i:i+3] != "~~~" {
			continue
		}
		lineStart := strings.LastIndexByte(s[:i], '\n') + 1
		if strings.TrimLeft(s[lineStart:i], " \t") != "" {
			b.WriteString(strings.TrimRight(s[last:i], " \t"))
			b.WriteByte('\n')
			last = i
		}
		i += 2
		for i+1 < len(s) && s[i+1] == s[i] {
			i++ // a longer fence is still one fence
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func extractCode(answer string) string {
	s := fencesOnOwnLines(stripSpecialTokens(answer))
	blocks := fencedBlocks(s)
	var code string
	if len(blocks) == 0 {
		code = s
	} else {
		code = pickBlock(blocks).body
		code = strings.ReplaceAll(code, "[PYTHON]", "")
		code = strings.ReplaceAll(code, "[/PYTHON]", "")
	}
	return tidyCode(code)
}

// pickBlock prefers the longest Python block, then the longest untagged
// one, then the longest of any language; a model's implementation is
// usually longer than its usage example.
func pickBlock(blocks []codeBlock) codeBlock {
	best := -1
	rank := func(b codeBlock) int {
		switch {
		case isPythonLang(b.lang):
			return 2
		case b.lang == "":
			return 1
		}
		return 0
	}
	for i, b := range blocks {
		if best < 0 || rank(b) > rank(blocks[best]) ||
			(rank(b) == rank(blocks[best]) && len(strings.TrimSpace(b.body)) > len(strings.TrimSpace(blocks[best].body))) {
			best = i
		}
	}
	return blocks[best]
}

// tidyCode drops leading and trailing blank lines and trailing spaces,
// removes indentation common to every line (code indented inside a Markdown
// list) and ends the code with one newline.
func tidyCode(code string) string {
	lines := strings.Split(strings.ReplaceAll(code, "\r\n", "\n"), "\n")
	start, end := 0, len(lines)
	for start < end && strings.TrimSpace(lines[start]) == "" {
		start++
	}
	for end > start && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	if start == end {
		return ""
	}
	common := ""
	for i := start; i < end; i++ {
		lines[i] = strings.TrimRight(lines[i], " \t")
		if lines[i] == "" {
			continue
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
		if i == start || !strings.HasPrefix(indent, common) {
			common = commonPrefix(common, indent, i == start)
		}
	}
	for i := start; i < end; i++ {
		lines[i] = strings.TrimPrefix(lines[i], common)
	}
	return strings.Join(lines[start:end], "\n") + "\n"
}

func commonPrefix(a, b string, first bool) string {
	if first {
		return b
	}
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}
