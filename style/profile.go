package style

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/r2c-ai/r2c/internal/atomicfile"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"
)

// ProfileVersion is the version of the profile JSON schema this package
// writes. LoadProfile refuses other versions with a message naming the fix.
const ProfileVersion = 1

// DefaultMinEvidence is how many observations a profile dimension needs
// before it produces diagnostics or takes part in the score; it matches the
// default of the config key style.min_evidence.
const DefaultMinEvidence = 5

// Distribution counts how often each value of a dimension was observed,
// e.g. {"snake_case": 206, "camelCase": 6}.
type Distribution map[string]int

// Total is the number of observations.
func (d Distribution) Total() int {
	n := 0
	for _, c := range d {
		n += c
	}
	return n
}

// Share is the fraction of observations with value v (0 when empty).
func (d Distribution) Share(v string) float64 {
	t := d.Total()
	if t == 0 {
		return 0
	}
	return float64(d[v]) / float64(t)
}

// Mode returns the most frequent value and its share; ties go to the value
// that sorts first so the result is deterministic.
func (d Distribution) Mode() (value string, share float64) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := -1
	for _, k := range keys {
		if d[k] > best {
			value, best = k, d[k]
		}
	}
	return value, d.Share(value)
}

// Profile is a learned style: per dimension, how often each value was seen.
// Its JSON form is versioned and keeps every count.
type Profile struct {
	// Version is the format version, "schema_version" in JSON like every
	// file r2c writes; profiles saved before that name it "version".
	Version       int       `json:"schema_version"`
	LegacyVersion int       `json:"version,omitempty"`
	Created       time.Time `json:"created"`
	// Sources are the directories the profile was learned from.
	Sources []string `json:"sources,omitempty"`
	Files   int      `json:"files"`
	Lines   int      `json:"lines"`
	// Skipped lists files that could not be analysed, with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// Dimensions maps a dimension name (see Dimensions()) to its counts.
	Dimensions map[string]Distribution `json:"dimensions"`
	// MinEvidence overrides DefaultMinEvidence when positive; it is not
	// saved (config key style.min_evidence sets it per workspace).
	MinEvidence int `json:"-"`
}

// NewProfile returns an empty profile to which sources can be added.
func NewProfile() *Profile {
	return &Profile{Version: ProfileVersion, Created: time.Now().UTC(), Dimensions: map[string]Distribution{}}
}

// AddSource analyses one file and adds its observations to the profile.
// Files that are binary or too large return an error and leave the profile
// unchanged; syntax errors do not stop the rest being learned.
func (p *Profile) AddSource(path string, src []byte) error {
	a, err := analyzeSource(src)
	if err != nil {
		return fmt.Errorf("style: %s: %w", path, err)
	}
	p.add(a)
	return nil
}

func (p *Profile) add(a *analysis) {
	for _, o := range a.obs {
		d := p.Dimensions[o.dim]
		if d == nil {
			d = Distribution{}
			p.Dimensions[o.dim] = d
		}
		d[o.value]++
	}
	p.Files++
	p.Lines += a.lines
}

// merge adds q's counts to p.
func (p *Profile) merge(q *Profile) {
	for dim, dist := range q.Dimensions {
		d := p.Dimensions[dim]
		if d == nil {
			d = Distribution{}
			p.Dimensions[dim] = d
		}
		for v, n := range dist {
			d[v] += n
		}
	}
	p.Files += q.Files
	p.Lines += q.Lines
	p.Skipped = append(p.Skipped, q.Skipped...)
}

// Learn builds a profile from the Python files under dirs as PythonFiles
// lists them with tracked files only: the git-tracked .py files when a
// directory is inside a git work tree, otherwise every .py file found by
// walking it; vendored, generated and virtual-environment folders are
// skipped. Files that cannot be analysed, generated ones included, are
// listed in Profile.Skipped. Files are analysed in parallel, one worker per
// CPU. It fails when no file could be learned from or ctx is cancelled.
func Learn(ctx context.Context, dirs []string) (*Profile, error) {
	p := NewProfile()
	var files []string
	for _, dir := range dirs {
		found, err := PythonFiles(ctx, dir, FileOptions{})
		if err != nil {
			return nil, fmt.Errorf("style: learn: %w", err)
		}
		abs, _ := filepath.Abs(dir)
		p.Sources = append(p.Sources, abs)
		for _, f := range found {
			files = append(files, f.Path)
		}
	}
	work := make(chan string)
	partial := make([]*Profile, runtime.GOMAXPROCS(0))
	var wg conc.WaitGroup
	for w := range partial {
		part := NewProfile()
		partial[w] = part
		wg.Go(func() {
			for f := range work {
				if err := learnFile(part, f); err != nil {
					part.Skipped = append(part.Skipped, err.Error())
				}
			}
		})
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("style: learn: %w", err)
	}
	for _, part := range partial {
		p.merge(part)
	}
	sort.Strings(p.Skipped)
	if p.Files == 0 {
		return nil, fmt.Errorf("style: learn: no Python files to learn from in %v (looked for git-tracked or, outside git, any *.py, skipping venv/vendor/build folders)", dirs)
	}
	return p, nil
}

// learnFile adds one file to part. A panic in the analysis (a parser bug
// met by some odd file) skips the file instead of ending the process or
// leaving a worker dead while the feed waits for it.
func learnFile(part *Profile, f string) (err error) {
	if r := panics.Try(func() {
		var src []byte
		src, err = readSource(f)
		if err == nil && IsGenerated(src) {
			err = fmt.Errorf("%s: generated (marked DO NOT EDIT or @generated)", f)
		}
		if err == nil {
			err = part.AddSource(f, src)
		}
	}); r != nil {
		return fmt.Errorf("%s: internal error while analysing: %v", f, r.Value)
	}
	return err
}

// LoadProfile reads a profile written by Save.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("style: load profile: %w (create one with 'r2c style learn DIR')", err)
	}
	var p Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("style: load profile %s: %w", path, err)
	}
	if p.Version == 0 {
		p.Version, p.LegacyVersion = p.LegacyVersion, 0
	}
	if p.Version != ProfileVersion {
		return nil, fmt.Errorf("style: load profile %s: version %d, this r2c reads version %d (re-run 'r2c style learn')", path, p.Version, ProfileVersion)
	}
	if p.Dimensions == nil {
		p.Dimensions = map[string]Distribution{}
	}
	return &p, nil
}

// Save writes the profile as indented JSON atomically (see atomicfile):
// an interrupted save leaves the previous profile. Parent directories are
// created.
func (p *Profile) Save(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("style: save profile: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("style: save profile: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600, nil); err != nil {
		return fmt.Errorf("style: save profile: %w", err)
	}
	return nil
}

// minEvidence is the effective evidence threshold.
func (p *Profile) minEvidence() int {
	if p.MinEvidence > 0 {
		return p.MinEvidence
	}
	return DefaultMinEvidence
}
