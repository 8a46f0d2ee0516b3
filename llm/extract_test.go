package llm_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
)

// pythonDefs asks python3's ast module, in one process, whether each source
// is valid Python, and for the valid ones the names of its top-level
// definitions (nil for invalid sources).
func pythonDefs(t *testing.T, sources []string) [][]string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH: needed as the oracle for ExtractCode")
	}
	in, _ := json.Marshal(sources)
	cmd := exec.Command(py, "-c", `import ast, json, sys
out = []
for src in json.load(sys.stdin):
    try:
        tree = ast.parse(src)
    except SyntaxError:
        out.append(None)
        continue
    out.append([n.name for n in tree.body if hasattr(n, "name")])
json.dump(out, sys.stdout)`)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var defs [][]string
	if err := json.Unmarshal(raw, &defs); err != nil || len(defs) != len(sources) {
		t.Fatalf("python3 answered %s (%v)", raw, err)
	}
	return defs
}

const attention = `import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    """Attention(Q, K, V) = softmax(QK^T / sqrt(d_k)) V."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
`

func TestExtractCode(t *testing.T) {
	cases := []struct {
		name, answer string
		wantDefs     string
	}{
		{"plain", attention, "scaled_dot_product_attention"},
		{"fenced with prose", "Here is the implementation:\n\n```python\n" + attention + "```\n\nIt follows Eq. (1).", "scaled_dot_product_attention"},
		{"python block among others", "Install it:\n```bash\npip install torch\n```\nCode:\n```py\n" + attention + "```\nUsage:\n```\nout = f(q, k, v)\n```\n", "scaled_dot_product_attention"},
		{"longest python block wins", "```python\n" + attention + "```\nExample:\n```python\nprint(scaled_dot_product_attention(q, k, v))\n```", "scaled_dot_product_attention"},
		{"codellama tags", "[PYTHON]\n" + attention + "[/PYTHON]\n", "scaled_dot_product_attention"},
		{"special tokens", "<s>[INST] write it [/INST] ```python\n" + attention + "```</s><|endoftext|>", "scaled_dot_product_attention"},
		{"fim tokens", "<PRE> " + attention + " <SUF><MID><EOT>", "scaled_dot_product_attention"},
		{"chatml", "<|im_start|>assistant\n```python\n" + attention + "```<|im_end|>", "scaled_dot_product_attention"},
		{"unterminated fence (max tokens)", "```python\n" + attention, "scaled_dot_product_attention"},
		{"tilde fence", "~~~python\n" + attention + "~~~", "scaled_dot_product_attention"},
		{"indented class", "```python\nclass Adam:\n    def step(self):\n        return 1\n```", "Adam"},
	}
	codes := make([]string, len(cases))
	for i, tc := range cases {
		codes[i] = llm.ExtractCode(tc.answer)
	}
	defs := pythonDefs(t, codes)
	for i, tc := range cases {
		code := codes[i]
		if defs[i] == nil {
			t.Errorf("%s: not valid Python:\n%s", tc.name, code)
			continue
		}
		if !slices.Contains(defs[i], tc.wantDefs) {
			t.Errorf("%s: definitions %v, want %s", tc.name, defs[i], tc.wantDefs)
		}
		for _, tok := range []string{"```", "<s>", "</s>", "[INST]", "<EOT>", "<|im_end|>", "[PYTHON]", "pip install", "Here is"} {
			if strings.Contains(code, tok) {
				t.Errorf("%s: %q left in:\n%s", tc.name, tok, code)
			}
		}
		if !strings.HasSuffix(code, "\n") || strings.HasSuffix(code, "\n\n") {
			t.Errorf("%s: code should end with exactly one newline: %q", tc.name, code[max(0, len(code)-10):])
		}
	}
	if got := llm.ExtractCode("  \n```\n```\n"); got != "" {
		t.Errorf("empty block: %q", got)
	}
}

func TestStripSpecialTokens(t *testing.T) {
	got := llm.StripSpecialTokens("<s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nhi [/INST] x <eos><|eot_id|>")
	if got != " \nsys\n\n\nhi  x " {
		t.Errorf("%q", got)
	}
}
