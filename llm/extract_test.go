package llm_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/r2c-ai/r2c/llm"
)

// pythonParses asks python3's ast module whether src is valid Python and
// returns the names of its top-level definitions.
func pythonParses(t *testing.T, src string) (names []string, ok bool) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH: needed as the oracle for ExtractCode")
	}
	cmd := exec.Command(py, "-c", `import ast, sys
tree = ast.parse(sys.stdin.read())
print(" ".join(n.name for n in tree.body if hasattr(n, "name")))`)
	cmd.Stdin = strings.NewReader(src)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, false
	}
	return strings.Fields(out.String()), true
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
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := llm.ExtractCode(tc.answer)
			defs, ok := pythonParses(t, code)
			if !ok {
				t.Fatalf("not valid Python:\n%s", code)
			}
			if !strings.Contains(" "+strings.Join(defs, " ")+" ", " "+tc.wantDefs+" ") {
				t.Errorf("definitions %v, want %s", defs, tc.wantDefs)
			}
			for _, tok := range []string{"```", "<s>", "</s>", "[INST]", "<EOT>", "<|im_end|>", "[PYTHON]", "pip install", "Here is"} {
				if strings.Contains(code, tok) {
					t.Errorf("%q left in:\n%s", tok, code)
				}
			}
			if !strings.HasSuffix(code, "\n") || strings.HasSuffix(code, "\n\n") {
				t.Errorf("code should end with exactly one newline: %q", code[max(0, len(code)-10):])
			}
		})
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
