package llm

// ExtractCode returns the code in a model's answer. Among fenced blocks
// (``` or ~~~, also when the fence follows text on its line, and
// CodeLlama's [PYTHON]...[/PYTHON]) it takes the longest Python-tagged one,
// else the longest untagged one, else the longest; a block cut off by the
// token limit runs to the end of the answer. Without fences the whole
// answer is the code. Chat and fill-in-the-middle special tokens (<s>, </s>,
// <PRE>, <SUF>, <MID>, <EOT>, <eos>, <|endoftext|>, <|im_end|>, [INST],
// [/INST], <<SYS>> ...) are removed, blank edges and trailing spaces are
// trimmed, indentation common to all lines is removed, and the code ends
// with one newline ("" when there is none).
func ExtractCode(answer string) string { return extractCode(answer) }

// StripSpecialTokens removes chat and FIM special tokens from s.
func StripSpecialTokens(s string) string { return stripSpecialTokens(s) }
