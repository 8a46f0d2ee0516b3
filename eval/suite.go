package eval

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed suite
var shipped embed.FS

// Shipped returns the suite that ships with r2c.
func Shipped() fs.FS {
	sub, err := fs.Sub(shipped, "suite")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	return sub
}

// Frameworks a task can name.
const (
	FrameworkNumPy = "numpy"
	FrameworkTorch = "torch"
)

// Task is one paper section to implement, with its hidden tests.
type Task struct {
	ID        string `toml:"id" json:"id"`
	Title     string `toml:"title" json:"title"`
	Framework string `toml:"framework" json:"framework"`
	// Paper is the paper's title and authors, used as the document title.
	Paper string `toml:"paper" json:"paper"`
	// Section is the section number the Markdown's heading carries.
	Section string `toml:"section" json:"section"`
	// SectionFile is the Markdown file of the section (default section.md).
	SectionFile string `toml:"section_file" json:"section_file,omitempty"`
	// Module is the file the hidden tests import, as the section's
	// interface paragraph names it.
	Module string `toml:"module" json:"module"`
	// ManualMinutes is how long a person took to implement the task by
	// hand, as recorded; 0 means no recorded time (no productivity figure).
	ManualMinutes float64 `toml:"manual_minutes" json:"manual_minutes,omitempty"`
	// TimeoutSeconds overrides the hidden tests' time limit.
	TimeoutSeconds float64 `toml:"timeout_seconds" json:"timeout_seconds,omitempty"`

	// SectionText is the section's Markdown.
	SectionText string `toml:"-" json:"-"`
	// Hidden and Reference map file names to contents.
	Hidden    map[string][]byte `toml:"-" json:"-"`
	Reference map[string][]byte `toml:"-" json:"-"`
	// Err is why the task cannot run (a missing section, no hidden test):
	// the run records it as that task's failure and goes on.
	Err error `toml:"-" json:"-"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// LoadSuite reads every task folder of fsys (sorted by name). A folder that
// is not a valid task still yields a Task with Err set, so the run can
// record it; only an unreadable suite is an error.
func LoadSuite(fsys fs.FS) ([]*Task, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read suite: %w", err)
	}
	var tasks []*Task
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), "task.toml")); errors.Is(err, fs.ErrNotExist) {
			continue // not a task folder (e.g. notes)
		}
		t := loadTask(fsys, e.Name())
		if seen[t.ID] && t.Err == nil {
			t.Err = fmt.Errorf("task %s: id %q is used by another task folder: give each task its own id", e.Name(), t.ID)
		}
		seen[t.ID] = true
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("the suite has no task folders (each needs a task.toml)")
	}
	return tasks, nil
}

// LoadSuiteDir is LoadSuite on a folder of the file system.
func LoadSuiteDir(dir string) ([]*Task, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("suite %s is not a folder: %w", dir, errOr(err, fs.ErrInvalid))
	}
	return LoadSuite(os.DirFS(dir))
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

func loadTask(fsys fs.FS, dir string) *Task {
	t := &Task{ID: dir}
	fail := func(format string, args ...any) *Task {
		t.Err = fmt.Errorf("task %s: "+format, append([]any{dir}, args...)...)
		return t
	}
	b, err := fs.ReadFile(fsys, path.Join(dir, "task.toml"))
	if err != nil {
		return fail("%w", err)
	}
	md, err := toml.Decode(string(b), t)
	if err != nil {
		return fail("task.toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fail("task.toml: unknown key %q (known: id, title, framework, paper, section, section_file, module, manual_minutes, timeout_seconds)", und[0].String())
	}
	if t.ID == "" {
		t.ID = dir
	}
	switch {
	case !idPattern.MatchString(t.ID):
		return fail("id %q: use lower-case letters, digits, '_', '-' or '.'", t.ID)
	case t.Framework != FrameworkNumPy && t.Framework != FrameworkTorch:
		return fail("framework %q: use %q or %q", t.Framework, FrameworkNumPy, FrameworkTorch)
	case t.Section == "":
		return fail("task.toml has no section number")
	case t.Module == "" || path.Ext(t.Module) != ".py" || strings.ContainsAny(t.Module, `/\`):
		return fail("module %q: name the one .py file the hidden tests import", t.Module)
	case t.ManualMinutes < 0 || t.TimeoutSeconds < 0:
		return fail("manual_minutes and timeout_seconds cannot be negative")
	}
	if t.SectionFile == "" {
		t.SectionFile = "section.md"
	}
	sec, err := fs.ReadFile(fsys, path.Join(dir, path.Clean(t.SectionFile)))
	if err != nil {
		return fail("the section %s is missing: write the paper section as Markdown there: %w", t.SectionFile, err)
	}
	t.SectionText = string(sec)
	if !hasHeading(t.SectionText, t.Section) {
		return fail("%s has no heading for section %s: start it with \"## %s <title>\"", t.SectionFile, t.Section, t.Section)
	}
	if t.Hidden, err = readFolder(fsys, path.Join(dir, "hidden")); err != nil {
		return fail("hidden tests: %w", err)
	}
	tests := 0
	for name := range t.Hidden {
		if strings.HasPrefix(name, "test_") && strings.HasSuffix(name, ".py") {
			tests++
		}
		if name == t.Module {
			return fail("hidden/%s has the name of the module under test", name)
		}
	}
	if tests == 0 {
		return fail("hidden/ has no test_*.py file: the task could not judge anything")
	}
	if t.Reference, err = readFolder(fsys, path.Join(dir, "reference")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail("reference: %w", err)
	}
	return t
}

// hasHeading reports whether md has a Markdown heading numbered section.
func hasHeading(md, section string) bool {
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(strings.TrimLeft(line, "#"))
		if len(f) > 0 && strings.TrimSuffix(f[0], ".") == section {
			return true
		}
	}
	return false
}

// readFolder reads the regular files directly in dir.
func readFolder(fsys fs.FS, dir string) (map[string][]byte, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

// HiddenTests returns the hidden test files' names, sorted.
func (t *Task) HiddenTests() []string {
	var names []string
	for name := range t.Hidden {
		if strings.HasPrefix(name, "test_") && strings.HasSuffix(name, ".py") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// PaperMarkdown is the document the pipeline reads: the paper's title, the
// section, nothing of the hidden tests.
func (t *Task) PaperMarkdown() string {
	title := t.Paper
	if title == "" {
		title = t.Title
	}
	return "# " + title + "\n\n" + strings.TrimSpace(t.SectionText) + "\n"
}

// Select keeps the tasks whose id matches the glob (path.Match syntax;
// empty keeps all). A glob matching nothing is an error naming the ids.
func Select(tasks []*Task, glob string) ([]*Task, error) {
	if glob == "" {
		return tasks, nil
	}
	var out []*Task
	var ids []string
	for _, t := range tasks {
		ids = append(ids, t.ID)
		for _, g := range strings.Split(glob, ",") {
			ok, err := path.Match(strings.TrimSpace(g), t.ID)
			if err != nil {
				return nil, fmt.Errorf("--tasks %q: %w", glob, err)
			}
			if ok {
				out = append(out, t)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--tasks %q matches no task; the suite has: %s", glob, strings.Join(ids, ", "))
	}
	return out, nil
}
