package style

import (
	"strings"
	"unicode"
)

// classifyName returns the naming convention of an identifier:
// "snake_case", "camelCase", "PascalCase", "UPPER_CASE" or "other". Names
// that fit several conventions (a single lowercase word, a single letter)
// and dunder names return "" and are not counted: they say nothing about
// the author's choice.
func classifyName(name string) string {
	if strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__") {
		return ""
	}
	core := strings.TrimLeft(name, "_")
	if len([]rune(core)) < 2 {
		return ""
	}
	var upper, lower, underscore bool
	for _, r := range core {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case r == '_':
			underscore = true
		}
	}
	first := []rune(core)[0]
	switch {
	case lower && !upper && underscore:
		return "snake_case"
	case lower && !upper:
		return "" // one lowercase word: snake_case and camelCase alike
	case upper && !lower:
		return "UPPER_CASE"
	case underscore:
		return "other"
	case unicode.IsUpper(first):
		return "PascalCase"
	case unicode.IsLower(first):
		return "camelCase"
	}
	return "other"
}

// words splits an identifier into lowercase words at underscores and case
// changes: "getHTTPResponse" → get, http, response.
func words(name string) []string {
	var out []string
	for _, part := range strings.Split(name, "_") {
		rs := []rune(part)
		start := 0
		for i := 1; i < len(rs); i++ {
			lowerToUpper := unicode.IsLower(rs[i-1]) && unicode.IsUpper(rs[i])
			acronymEnd := i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsUpper(rs[i]) && unicode.IsLower(rs[i+1])
			digitBoundary := unicode.IsDigit(rs[i-1]) != unicode.IsDigit(rs[i]) && unicode.IsUpper(rs[i])
			if lowerToUpper || acronymEnd || digitBoundary {
				out = append(out, strings.ToLower(string(rs[start:i])))
				start = i
			}
		}
		if start < len(rs) {
			out = append(out, strings.ToLower(string(rs[start:])))
		}
	}
	return out
}

// convertName rewrites name in convention conv, keeping leading
// underscores. It returns "" when the result would not be a usable name.
func convertName(name, conv string) string {
	core := strings.TrimLeft(name, "_")
	prefix := name[:len(name)-len(core)]
	ws := words(core)
	if len(ws) == 0 {
		return ""
	}
	var out string
	switch conv {
	case "snake_case":
		out = strings.Join(ws, "_")
	case "UPPER_CASE":
		out = strings.ToUpper(strings.Join(ws, "_"))
	case "PascalCase", "camelCase":
		var b strings.Builder
		for i, w := range ws {
			if i == 0 && conv == "camelCase" {
				b.WriteString(w)
				continue
			}
			rs := []rune(w)
			rs[0] = unicode.ToUpper(rs[0])
			b.WriteString(string(rs))
		}
		out = b.String()
	default:
		return ""
	}
	out = prefix + out
	if out == name || pythonKeywords[out] || (out[0] >= '0' && out[0] <= '9') {
		return ""
	}
	return out
}

var pythonKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}
