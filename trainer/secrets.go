package trainer

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
)

// secretScanner finds secrets with gitleaks' default rules and with
// r2c's own rules for what those miss in Python code (measured: a password
// in a connection-string URL, a plain password assignment, an AWS secret
// key assignment, Hugging Face tokens, AWS documentation-style key ids).
type secretScanner struct {
	det *detect.Detector
}

var quietGitleaks sync.Once

func newSecretScanner() (*secretScanner, error) {
	// gitleaks logs findings, values included, at debug and trace level
	// through a package-level logger; r2c's logs never carry a secret.
	quietGitleaks.Do(func() { logging.Logger = zerolog.Nop() })
	det, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		return nil, fmt.Errorf("loading gitleaks' default rules: %w", err)
	}
	return &secretScanner{det: det}, nil
}

// secretFinding is one secret: the rule that found it and its value, which
// is only ever used to redact and to check that no output contains it.
type secretFinding struct {
	Rule  string
	Value string
}

type extraRule struct {
	id    string
	re    *regexp.Regexp
	group int
	keep  func(value, name string) bool
}

var (
	// credentials in a URL: scheme://user:PASSWORD@host
	reURLCreds = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'"]+:([^\s@/'"]+)@[^\s'"/]+`)
	// NAME = "value" or NAME: str = "value" or name="value" (keyword
	// argument) or "name": "value" (dict literal), for names that hold
	// credentials.
	reAssign   = regexp.MustCompile(`(?i)["']?([a-z0-9_]*(?:password|passwd|pwd|secret|token|api_?key|access_?key|private_?key|_key|auth)[a-z0-9_]*)["']?\s*(?::\s*[a-zA-Z_][\w\[\]., ]*)?\s*[:=]\s*[rbuRBU]?["']([^"'\n]{4,})["']`)
	reHFToken  = regexp.MustCompile(`\b(hf_[A-Za-z0-9]{30,})\b`)
	reAWSKeyID = regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`)
	reGHToken  = regexp.MustCompile(`\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b`)
	reOpenAI   = regexp.MustCompile(`\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})\b`)
	rePEM      = regexp.MustCompile(`-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----`)
)

var extraRules = []extraRule{
	{id: "r2c-url-credentials", re: reURLCreds, group: 1, keep: func(v, _ string) bool { return !isPlaceholder(v) }},
	{id: "r2c-credential-assignment", re: reAssign, group: 2, keep: keepAssigned},
	{id: "r2c-huggingface-token", re: reHFToken, group: 1},
	{id: "r2c-aws-access-key-id", re: reAWSKeyID, group: 1},
	{id: "r2c-github-token", re: reGHToken, group: 1},
	{id: "r2c-openai-key", re: reOpenAI, group: 1},
	{id: "r2c-private-key", re: rePEM, group: 0},
}

// isPlaceholder reports values that are obviously not real credentials:
// template markers, environment look-ups, masks.
func isPlaceholder(v string) bool {
	l := strings.ToLower(v)
	if strings.HasPrefix(v, "<") || strings.HasPrefix(v, "{") || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") {
		return true
	}
	if strings.Trim(l, "x*.-_") == "" {
		return true
	}
	for _, p := range []string{"changeme", "your_", "your-", "example", "placeholder", "redacted", "dummy", "<", "os.environ", "getenv"} {
		if strings.Contains(l, p) {
			return true
		}
	}
	// the fixtures of every test suite and tutorial
	return dummyValues[l]
}

var dummyValues = map[string]bool{
	"pass": true, "password": true, "passwd": true, "secret": true, "pwd": true, "test": true, "testing": true,
	"user": true, "username": true, "foo": true, "bar": true, "baz": true, "admin": true, "root": true,
	"token": true, "key": true, "pass123": true, "password123": true, "p@ssw0rd": true, "hunter2": true,
	"none": true, "null": true, "true": true, "false": true,
}

// GlobalSecretLength is the length from which a secret found in one file is
// also redacted from every other unit and checked against every output
// file. Shorter values are redacted where they were found only: as
// substrings they would match ordinary code.
const GlobalSecretLength = 8

// keepAssigned decides whether a literal assigned to a credential-like name
// is a secret. Passwords are secrets whatever their entropy ("hunter2");
// tokens and keys must look random (length 16+, entropy 3+ bits per char),
// so that token_type = "bearer" or sort_key = "created_at" stay.
func keepAssigned(v, name string) bool {
	if isPlaceholder(v) || strings.ContainsAny(v, " ") {
		return false
	}
	n := strings.ToLower(name)
	if strings.Contains(n, "password") || strings.Contains(n, "passwd") || strings.Contains(n, "pwd") {
		return len(v) >= 4
	}
	return len(v) >= 16 && entropy(v) >= 3.0
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// scan returns the secrets in text, longest first so that redaction never
// leaves a piece of a longer one.
func (s *secretScanner) scan(text string) []secretFinding {
	var out []secretFinding
	seen := map[string]bool{}
	add := func(rule, v string) {
		v = strings.TrimSpace(v)
		if len(v) < 4 || seen[v] {
			return
		}
		seen[v] = true
		out = append(out, secretFinding{Rule: rule, Value: v})
	}
	// DetectString keeps no state but an atomic byte counter: safe to
	// share between workers.
	findings := s.det.DetectString(text)
	for _, f := range findings {
		v := f.Secret
		if v == "" {
			v = f.Match
		}
		add(f.RuleID, v)
	}
	for _, r := range extraRules {
		for _, m := range r.re.FindAllStringSubmatch(text, -1) {
			v := m[r.group]
			name := ""
			if len(m) > 1 {
				name = m[1]
			}
			if r.keep != nil && !r.keep(v, name) {
				continue
			}
			add(r.id, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Value) > len(out[j].Value) })
	return out
}

// placeholder is what replaces a secret, in the manner of BigCode's
// pipeline: the kind of secret, never its value.
func placeholder(rule string) string {
	r := strings.ToLower(rule)
	switch {
	case strings.Contains(r, "private-key"):
		return "<PRIVATE_KEY>"
	case strings.Contains(r, "url-credentials") || strings.Contains(r, "password"):
		return "<PASSWORD>"
	case strings.Contains(r, "token"):
		return "<TOKEN>"
	}
	return "<KEY>"
}

// redact replaces every finding's value in text by its placeholder.
func redact(text string, fs []secretFinding) string {
	for _, f := range fs {
		text = strings.ReplaceAll(text, f.Value, placeholder(f.Rule))
	}
	return text
}
