package eval

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// JSONLTask is one line of a suite kept elsewhere: the task.toml fields,
// the section's Markdown and the files, by name.
type JSONLTask struct {
	ID             string            `json:"id"`
	Title          string            `json:"title"`
	Framework      string            `json:"framework"`
	Paper          string            `json:"paper"`
	Section        string            `json:"section"`
	SectionText    string            `json:"section_text"`
	Module         string            `json:"module"`
	ManualMinutes  float64           `json:"manual_minutes,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
	Hidden         map[string]string `json:"hidden"`
	Reference      map[string]string `json:"reference,omitempty"`
}

// ImportJSONL writes one task folder under dir per JSON line of r and
// returns their ids. Every line is checked as LoadSuite checks a folder
// before anything is written, and an existing task folder is never
// replaced.
func ImportJSONL(r io.Reader, dir string) ([]string, error) {
	var tasks []JSONLTask
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var t JSONLTask
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := checkJSONL(t); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		tasks = append(tasks, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(tasks) == 0 {
		return nil, errors.New("no task lines")
	}
	seen := map[string]bool{}
	for _, t := range tasks {
		if seen[t.ID] {
			return nil, fmt.Errorf("task id %q appears twice", t.ID)
		}
		seen[t.ID] = true
		if _, err := os.Lstat(filepath.Join(dir, t.ID)); err == nil {
			return nil, fmt.Errorf("%s already exists: import into another folder or remove it", filepath.Join(dir, t.ID))
		}
	}
	var ids []string
	for _, t := range tasks {
		if err := writeJSONLTask(dir, t); err != nil {
			return ids, err
		}
		ids = append(ids, t.ID)
	}
	return ids, nil
}

func checkJSONL(t JSONLTask) error {
	if !idPattern.MatchString(t.ID) {
		return fmt.Errorf("id %q: use lower-case letters, digits, '_', '-' or '.'", t.ID)
	}
	for kind, files := range map[string]map[string]string{"hidden": t.Hidden, "reference": t.Reference} {
		for name := range files {
			if name != filepath.Base(name) || strings.HasPrefix(name, ".") || name == "" {
				return fmt.Errorf("task %s: %s file name %q: plain file names only", t.ID, kind, name)
			}
		}
	}
	if t.SectionText == "" {
		return fmt.Errorf("task %s: no section_text", t.ID)
	}
	return nil
}

func writeJSONLTask(dir string, t JSONLTask) error {
	root := filepath.Join(dir, t.ID)
	meta := struct {
		ID             string  `toml:"id"`
		Title          string  `toml:"title"`
		Framework      string  `toml:"framework"`
		Paper          string  `toml:"paper"`
		Section        string  `toml:"section"`
		Module         string  `toml:"module"`
		ManualMinutes  float64 `toml:"manual_minutes,omitempty"`
		TimeoutSeconds float64 `toml:"timeout_seconds,omitempty"`
	}{t.ID, t.Title, t.Framework, t.Paper, t.Section, t.Module, t.ManualMinutes, t.TimeoutSeconds}
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(meta); err != nil {
		return err
	}
	files := map[string]string{"task.toml": b.String(), "section.md": t.SectionText}
	for name, c := range t.Hidden {
		files[filepath.Join("hidden", name)] = c
	}
	for name, c := range t.Reference {
		files[filepath.Join("reference", name)] = c
	}
	for name, c := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
	}
	return nil
}
