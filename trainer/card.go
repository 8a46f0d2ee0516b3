package trainer

import (
	"fmt"
	"sort"
	"strings"
)

// Markdown renders the card for people: sources, counts, every drop reason,
// secrets per rule (never values), token statistics and the style summary.
func (c *Card) Markdown() string {
	var b strings.Builder
	b.WriteString("# r2c fine-tuning dataset\n\n## Sources\n\n| repository | commit | licence | files | units | records |\n|---|---|---|---|---|---|\n")
	for _, s := range c.Sources {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d |\n", s.Repo, short(s.Commit), s.License, s.Files, s.Units, s.Records)
	}
	if len(c.Authors) > 0 {
		fmt.Fprintf(&b, "\nOnly code written by: %s.\n", strings.Join(c.Authors, ", "))
	}
	if c.Since != "" {
		fmt.Fprintf(&b, "\nOnly code written since %s.\n", c.Since)
	}
	b.WriteString("\n## Records\n\n| split | records | tokens | min | p50 | p95 | max |\n|---|---|---|---|---|---|---|\n")
	for _, s := range splitNames {
		t := c.Tokens.Splits[s]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", s, c.Records[s], t.Total, t.Min, t.P50, t.P95, t.Max)
	}
	fmt.Fprintf(&b, "\nTokens: %s; records over %d tokens are dropped.\n", c.Tokens.Counter, c.Tokens.MaxTokens)
	fmt.Fprintf(&b, "\nUnits kept: %s. Paper pairs: %d. Augmented (train only): %s.\n", kv(c.Units), c.Papers, kv(c.Augmented))
	b.WriteString("\n## Dropped\n\n")
	b.WriteString(table("reason", c.Drops))
	b.WriteString("\n## Secrets\n\nDistinct secret values found per rule, redacted with placeholders (<KEY>, <TOKEN>, <PASSWORD>, <PRIVATE_KEY>). Values are never recorded.\n\n")
	b.WriteString(table("rule", c.Secrets))
	fmt.Fprintf(&b, "\n## Quality\n\n- %s\n- Split %s\n- Style: units scoring under %g (0–100) against the profile learned from these units are dropped; mean score %.2f.\n",
		c.Dedup, c.Split, c.Style.Threshold, c.Style.MeanScore)
	if c.Style.Summary != "" {
		b.WriteString("\n### Style profile\n\n```\n" + strings.TrimRight(c.Style.Summary, "\n") + "\n```\n")
	}
	if len(c.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, w := range c.Warnings {
			b.WriteString("- " + w + "\n")
		}
	}
	return b.String()
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func kv(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func table(head string, m map[string]int) string {
	if len(m) == 0 {
		return "None.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | count |\n|---|---|\n", head)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, m[k])
	}
	return b.String()
}
