package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// paperEntry maps one paper section to the symbol that implements it.
// A mapping file is a JSON list of them:
//
//	[{"paper": "Attention Is All You Need", "section": "3.2.1 Scaled Dot-Product Attention",
//	  "text": "We call our particular attention ...",  (or "text_file": "sections/attn.txt")
//	  "repo": "mymodels",   (optional when one repository is given)
//	  "file": "mymodels/attention.py", "symbol": "scaled_dot_product_attention"}]
//
// symbol is a function or class name, or Class.method.
type paperEntry struct {
	Paper    string `json:"paper"`
	Section  string `json:"section"`
	Text     string `json:"text"`
	TextFile string `json:"text_file"`
	Repo     string `json:"repo"`
	File     string `json:"file"`
	Symbol   string `json:"symbol"`
	unitID   string
}

func loadPapers(path string) ([]paperEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--papers: %w", err)
	}
	var entries []paperEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, usagef("--papers %s is not a JSON list of {paper, section, text, file, symbol} entries: %w", path, err)
	}
	for i := range entries {
		e := &entries[i]
		if e.TextFile != "" && e.Text == "" {
			p := e.TextFile
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, usagef("--papers %s entry %d: text_file: %w", path, i+1, err)
			}
			e.Text = string(b)
		}
		if e.Paper == "" || e.Section == "" || strings.TrimSpace(e.Text) == "" || e.File == "" || e.Symbol == "" {
			return nil, usagef("--papers %s entry %d: paper, section, text (or text_file), file and symbol are all required", path, i+1)
		}
	}
	return entries, nil
}

// resolvePapers finds each entry's unit among all units found, or fails
// naming the symbol and what the file does define.
func resolvePapers(entries []paperEntry, all []*unit, repos []*repoSource) error {
	for i := range entries {
		e := &entries[i]
		repo := e.Repo
		if repo == "" {
			if len(repos) != 1 {
				return usagef("--papers entry %d (%s): name the repository (\"repo\") when several are given", i+1, e.Symbol)
			}
			repo = repos[0].Name
		}
		var inFile []string
		for _, u := range all {
			if u.Repo != repo || u.Path != e.File {
				continue
			}
			inFile = append(inFile, u.Name)
			if u.Name == e.Symbol && e.unitID == "" {
				e.unitID = u.ID
			}
		}
		if e.unitID != "" {
			continue
		}
		if len(inFile) == 0 {
			return usagef("--papers entry %d: %s has no file %s with units (functions, classes) at HEAD: fix \"file\"", i+1, repo, e.File)
		}
		sort.Strings(inFile)
		return usagef("--papers entry %d: symbol %s is not defined in %s of %s (it defines: %s): fix \"symbol\"", i+1, e.Symbol, e.File, repo, strings.Join(inFile, ", "))
	}
	return nil
}

// paperMessages is the research-to-code pair: the paper section is the
// instruction, the user's implementation the answer.
func paperMessages(e paperEntry, u *unit) []Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Implement this section of the paper \"%s\" as the Python %s `%s` in `%s`.\n\n## %s\n\n%s\n\n",
		e.Paper, u.Kind, u.Name, u.Path, e.Section, strings.TrimSpace(e.Text))
	if u.Context != "" {
		b.WriteString("Module context:\n```python\n" + u.Context + "\n```\n\n")
	}
	b.WriteString("Signature:\n```python\n" + u.Signature + "\n```")
	return []Message{
		{Role: "system", Content: SystemPrompt},
		{Role: "user", Content: b.String()},
		{Role: "assistant", Content: u.Code},
	}
}
