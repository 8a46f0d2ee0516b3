package llm

// ExtractCode returns the code in a model's answer: the body of the Python
// fenced block when there are several (else the first, else the longest
// unterminated one), or the whole answer without fences, with chat and
// fill-in-the-middle special tokens (<s>, </s>, <PRE>, <SUF>, <MID>, <EOT>,
// <eos>, <|endoftext|>, <|im_end|>, [INST], [/INST], <<SYS>> ...) removed.
func ExtractCode(answer string) string { return extractCode(answer) }

// StripSpecialTokens removes chat and FIM special tokens from s.
func StripSpecialTokens(s string) string { return stripSpecialTokens(s) }
