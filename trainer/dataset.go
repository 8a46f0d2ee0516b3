package trainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/r2c-ai/r2c/style"
)

// DatasetOptions configure Dataset. Zero values take the documented
// defaults.
type DatasetOptions struct {
	Repos   []string  // paths (work tree, bare or shallow) or URLs; at least one
	Authors []string  // keep only units these authors (emails or names) wrote; all when empty
	Since   time.Time // keep only units written since then (by blame); zero for all
	Papers  string    // a paper-section → symbol mapping (JSON), optional
	// Tokenizer is a Hugging Face tokenizer.json used to count tokens; when
	// empty the count is an estimate (BytesPerToken) and the card says so.
	Tokenizer string
	MaxTokens int     // records over this many tokens are dropped; default 2048
	MinStyle  float64 // units scoring below this (0–100) against the profile are dropped; default DefaultMinStyle
	// Split is the train/validation/test share in percent; default 90/5/5.
	Split [3]int
	Out   string    // the dataset folder, written whole or not at all
	Log   io.Writer // progress and warnings; nil for none
	// Workers bounds the files processed at once; default one per CPU.
	Workers int
}

// DefaultMinStyle is the style score (0–100, see style.CheckSource) under
// which a unit is too far from the user's own profile to teach their
// style. Code the profile has little evidence about scores near 100, so
// only clearly foreign code (another project's conventions pasted in)
// falls below it.
const DefaultMinStyle = 50

// AuthorShare is the share of a unit's non-blank lines that the --author
// people must have written (by blame) for the unit to count as theirs.
const AuthorShare = 0.8

// Split names, in order.
var splitNames = [3]string{"train", "validation", "test"}

// Message is one chat turn, in the "messages" format TRL reads.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Record is one line of a split's JSONL file.
type Record struct {
	ID     string `json:"id"`
	Source string `json:"source"` // repo:path
	Kind   string `json:"kind"`   // function, method, class
	Task   string `json:"task"`   // implement, paper
	// Augmented names the augmentation ("docstring-stripped",
	// "paraphrase") or is empty for an original pair; augmented records are
	// only ever in the train split.
	Augmented string    `json:"augmented"`
	Tokens    int       `json:"tokens"`
	Messages  []Message `json:"messages"`
}

// SystemPrompt opens every record.
const SystemPrompt = "You are r2c. You write Python in the user's own style: their naming, docstrings, type hints and layout."

// Card describes a dataset: where it came from and what was left out why.
type Card struct {
	Format    int                    `json:"format"`
	Sources   []SourceCard           `json:"sources"`
	Authors   []string               `json:"authors,omitempty"`
	Since     string                 `json:"since,omitempty"`
	Records   map[string]int         `json:"records"`   // per split
	Augmented map[string]int         `json:"augmented"` // per augmentation, train only
	Papers    int                    `json:"paper_pairs"`
	Drops     map[string]int         `json:"drops"`   // per reason, files and units
	Secrets   map[string]int         `json:"secrets"` // distinct secret values per rule; never the values
	Tokens    TokenCard              `json:"tokens"`
	Style     StyleCard              `json:"style"`
	Dedup     string                 `json:"dedup"`
	Split     string                 `json:"split"`
	Units     map[string]int         `json:"units"` // kept units per kind
	Warnings  []string               `json:"warnings,omitempty"`
	perSource map[string]*SourceCard `json:"-"`
}

// SourceCard is one repository of a Card.
type SourceCard struct {
	Repo    string `json:"repo"`
	Name    string `json:"name"`
	Commit  string `json:"commit"`
	License string `json:"license"`
	Files   int    `json:"files"` // Python and notebook files read
	Units   int    `json:"units"` // units kept
	Records int    `json:"records"`
}

// TokenCard is the token accounting of a Card.
type TokenCard struct {
	Counter   string                `json:"counter"`
	MaxTokens int                   `json:"max_tokens"`
	Splits    map[string]TokenStats `json:"splits"`
}

// StyleCard is the style accounting of a Card.
type StyleCard struct {
	Threshold float64 `json:"threshold"`
	MeanScore float64 `json:"mean_score"`
	Summary   string  `json:"summary"`
}

// counter counts by reason, safe for concurrent use.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(reason string, n int) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[reason] += n
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// progress prints counts and an ETA at most once a second.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	done  int
	units int
	start time.Time
	last  time.Time
}

func (p *progress) step(units int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.units += units
	now := time.Now()
	if now.Sub(p.last) < time.Second && p.done != p.total {
		return
	}
	p.last = now
	eta := ""
	if p.done > 0 && p.done < p.total {
		left := time.Duration(float64(now.Sub(p.start)) / float64(p.done) * float64(p.total-p.done))
		eta = ", ETA " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "r2c train dataset: files %d/%d, %d units%s\n", p.done, p.total, p.units, eta)
}

func (o *DatasetOptions) defaults() error {
	if len(o.Repos) == 0 {
		return usagef("no repository given: pass --repo PATH_OR_URL (repeatable)")
	}
	if o.Out == "" {
		return usagef("no output folder given: pass --out DIR")
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = 2048
	}
	if o.MaxTokens < 64 {
		return usagef("--max-tokens %d is too small for one instruction pair: use 64 or more (default 2048)", o.MaxTokens)
	}
	if o.MinStyle == 0 {
		o.MinStyle = DefaultMinStyle
	}
	if o.MinStyle < 0 || o.MinStyle > 100 {
		return usagef("style threshold %g is outside 0–100", o.MinStyle)
	}
	if o.Split == [3]int{} {
		o.Split = [3]int{90, 5, 5}
	}
	if o.Split[0]+o.Split[1]+o.Split[2] != 100 || o.Split[0] <= 0 || o.Split[1] < 0 || o.Split[2] < 0 {
		return usagef("split %d/%d/%d must be three non-negative shares adding up to 100, train above 0", o.Split[0], o.Split[1], o.Split[2])
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	return nil
}

// Dataset builds the fine-tuning data set described by opts and writes
// train.jsonl, validation.jsonl, test.jsonl, card.json and card.md to
// opts.Out. The output is written to a temporary folder beside Out and
// renamed into place, so Out holds a whole dataset or what it held before.
// The same input gives byte-identical files. Errors in the request (not a
// repository, a missing symbol in the papers mapping) are UsageErrors.
func Dataset(ctx context.Context, opts DatasetOptions) (*Card, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	if err := checkOut(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("creating the parent of %s: %w", out, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder beside %s: %w", out, err)
	}
	defer os.RemoveAll(tmp)

	var papers []paperEntry
	if opts.Papers != "" {
		if papers, err = loadPapers(opts.Papers); err != nil {
			return nil, err
		}
	}
	var tokens tokenCounter = estimateCounter{}
	if opts.Tokenizer != "" {
		if tokens, err = newHFCounter(opts.Tokenizer); err != nil {
			return nil, err
		}
	}
	scanner, err := newSecretScanner()
	if err != nil {
		return nil, err
	}

	card := &Card{Format: 1, perSource: map[string]*SourceCard{}}
	for _, a := range opts.Authors {
		card.Authors = append(card.Authors, strings.ToLower(a))
	}
	sort.Strings(card.Authors)
	if !opts.Since.IsZero() {
		card.Since = opts.Since.UTC().Format(time.RFC3339)
	}

	// Open every repository first: a bad --repo fails before any work.
	var repos []*repoSource
	names := map[string]int{}
	for _, spec := range opts.Repos {
		rs, err := openRepo(ctx, spec, tmp)
		if err != nil {
			return nil, err
		}
		names[rs.Name]++
		if n := names[rs.Name]; n > 1 {
			rs.Name = fmt.Sprintf("%s-%d", rs.Name, n)
		}
		repos = append(repos, rs)
	}

	drops := &counter{}
	type job struct {
		rs *repoSource
		f  treeFile
	}
	var jobs []job
	for _, rs := range repos {
		files, err := rs.listFiles(drops)
		if err != nil {
			return nil, err
		}
		sc := &SourceCard{Repo: rs.Spec, Name: rs.Name, Commit: rs.Commit, License: rs.License}
		card.Sources = append(card.Sources, *sc)
		card.perSource[rs.Name] = &card.Sources[len(card.Sources)-1]
		for _, f := range files {
			jobs = append(jobs, job{rs, f})
		}
	}
	for i := range card.Sources {
		card.perSource[card.Sources[i].Name] = &card.Sources[i]
	}

	// Per file, in parallel: read, check, scan for secrets, cut into units,
	// redact, filter by author. Results land in a slot per file, so their
	// order does not depend on scheduling.
	prog := &progress{w: opts.Log, total: len(jobs), start: time.Now()}
	secretsFound := &counter{}
	results := make([][]*unit, len(jobs))
	var (
		warnMu   sync.Mutex
		warnings []string
		valuesMu sync.Mutex
		values   = map[string]string{} // secret value → rule, for redaction and the final check
		readMu   = map[*repoSource]*sync.Mutex{}
	)
	for _, rs := range repos {
		readMu[rs] = &sync.Mutex{}
	}
	authors := map[string]bool{}
	for _, a := range card.Authors {
		authors[a] = true
	}
	needBlame := len(authors) > 0 || !opts.Since.IsZero()
	p := pool.New().WithContext(ctx).WithMaxGoroutines(opts.Workers).WithCancelOnError()
	for i, j := range jobs {
		p.Go(func(ctx context.Context) error {
			// go-git's object reading is not documented as safe for
			// concurrent use: one reader per repository.
			m := readMu[j.rs]
			m.Lock()
			lf, err := j.rs.loadFile(j.f)
			m.Unlock()
			var drop *errDrop
			if errors.As(err, &drop) {
				drops.add(drop.reason, 1)
				if drop.warning != "" {
					warnMu.Lock()
					warnings = append(warnings, drop.warning)
					warnMu.Unlock()
				}
				prog.step(0)
				return nil
			}
			if err != nil {
				return err
			}
			us, err := extractUnits(j.rs.Name, lf, drops)
			if err != nil {
				drops.add("unparsable-file", 1)
				prog.step(0)
				return nil
			}
			found := scanner.scan(string(lf.Src))
			if len(found) > 0 {
				valuesMu.Lock()
				for _, f := range found {
					if _, ok := values[f.Value]; !ok {
						values[f.Value] = f.Rule
						secretsFound.add(f.Rule, 1)
					}
				}
				valuesMu.Unlock()
				for _, u := range us {
					u.Code = redact(u.Code, found)
					u.Signature = redact(u.Signature, found)
					u.Docstring = redact(u.Docstring, found)
					u.Context = redact(u.Context, found)
				}
			}
			if needBlame && len(us) > 0 {
				lines, err := j.rs.blame(ctx, j.f.Path)
				if err != nil {
					return fmt.Errorf("%s: %w", j.rs.Spec, err)
				}
				us = filterAuthors(us, lines, lf.Src, authors, opts.Since, drops)
			}
			results[i] = us
			prog.step(len(us))
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		card.perSource[j.rs.Name].Files++
	}
	sort.Strings(warnings)
	card.Warnings = warnings
	if opts.Log != nil {
		for _, w := range warnings {
			fmt.Fprintln(opts.Log, "warning:", w)
		}
	}

	// A secret found in one file is redacted from every unit: the same
	// key pasted where no rule recognises it must not get through.
	var global []secretFinding
	for v, rule := range values {
		if len(v) >= GlobalSecretLength {
			global = append(global, secretFinding{Rule: rule, Value: v})
		}
	}
	sort.Slice(global, func(i, j int) bool {
		if len(global[i].Value) != len(global[j].Value) {
			return len(global[i].Value) > len(global[j].Value)
		}
		return global[i].Value < global[j].Value
	})
	var all []*unit
	for _, us := range results {
		for _, u := range us {
			u.Code = redact(u.Code, global)
			u.Signature = redact(u.Signature, global)
			u.Docstring = redact(u.Docstring, global)
			u.Context = redact(u.Context, global)
		}
		all = append(all, us...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	byID := map[string]*unit{}
	for _, u := range all {
		byID[u.ID] = u
	}

	// Resolve the papers mapping against every unit found, before any
	// filtering: a symbol that does not exist is the user's mistake, a
	// symbol filtered out is counted.
	if err := resolvePapers(papers, all, repos); err != nil {
		return nil, err
	}

	// Exact duplicates: the first by identity stays.
	seenCode := map[[32]byte]bool{}
	kept := all[:0:0]
	for _, u := range all {
		h := sha256.Sum256([]byte(normalizeCode(u.Code)))
		if seenCode[h] {
			drops.add("duplicate", 1)
			continue
		}
		seenCode[h] = true
		kept = append(kept, u)
	}

	// Style: a profile of the user's own units, then each unit's score.
	profile := style.NewProfile()
	for _, u := range kept {
		_ = profile.AddSource(u.ID, []byte(u.Code))
	}
	if err := parallel(ctx, opts.Workers, len(kept), func(i int) error {
		r, err := style.CheckSource(profile, kept[i].ID, []byte(kept[i].Code))
		if err != nil {
			kept[i].Score = -1
			return nil
		}
		kept[i].Score = r.Score
		return nil
	}); err != nil {
		return nil, err
	}
	styled := kept[:0:0]
	scoreSum := 0.0
	for _, u := range kept {
		if u.Score < opts.MinStyle {
			drops.add("off-style", 1)
			continue
		}
		scoreSum += u.Score
		styled = append(styled, u)
	}

	// Length: the whole rendered record, counted with the real tokenizer
	// when one is given.
	fitting := styled[:0:0]
	for _, u := range styled {
		n, err := tokens.Count(recordText(implementMessages(u, false, 0)))
		if err != nil {
			return nil, fmt.Errorf("counting tokens of %s: %w", u.ID, err)
		}
		u.Tokens = n
		if n > opts.MaxTokens {
			drops.add("too-long", 1)
			continue
		}
		fitting = append(fitting, u)
	}

	// Near duplicates (MinHash LSH): one unit per cluster stays, and a
	// cluster, like a class with its methods, decides its split together.
	sigs := make([][]uint64, len(fitting))
	if err := parallel(ctx, opts.Workers, len(fitting), func(i int) error {
		sigs[i] = signature(fitting[i].Code)
		return nil
	}); err != nil {
		return nil, err
	}
	near := newUnionFind(len(fitting))
	splitUF := newUnionFind(len(fitting))
	for _, pr := range nearDuplicatePairs(sigs) {
		near.union(pr[0], pr[1])
		splitUF.union(pr[0], pr[1])
	}
	groupFirst := map[string]int{}
	for i, u := range fitting {
		if g, ok := groupFirst[u.Group]; ok {
			splitUF.union(g, i)
		} else {
			groupFirst[u.Group] = i
		}
	}
	var final []*unit
	splitOf := map[string]int{}
	for i, u := range fitting {
		if near.find(i) != i {
			drops.add("near-duplicate", 1)
			continue
		}
		final = append(final, u)
		splitOf[u.ID] = splitFor(fitting[splitUF.find(i)].ID, opts.Split)
	}

	// Records, per split.
	var splits [3][]Record
	card.Units = map[string]int{}
	card.Augmented = map[string]int{}
	for _, u := range final {
		s := splitOf[u.ID]
		card.Units[u.Kind]++
		card.perSource[u.Repo].Units++
		splits[s] = append(splits[s], makeRecord(u, "", implementMessages(u, false, 0), u.Tokens))
		card.perSource[u.Repo].Records++
		if s != 0 {
			continue // augmented variants never reach validation or test
		}
		variant := int(hashKey(u.ID) % uint64(len(paraphrases)-1))
		msgs := implementMessages(u, false, variant+1)
		if n, err := tokens.Count(recordText(msgs)); err == nil && n <= opts.MaxTokens {
			splits[0] = append(splits[0], makeRecord(u, "paraphrase", msgs, n))
			card.Augmented["paraphrase"]++
			card.perSource[u.Repo].Records++
		}
		if u.Docstring != "" {
			msgs := implementMessages(u, true, 0)
			if n, err := tokens.Count(recordText(msgs)); err == nil && n <= opts.MaxTokens {
				splits[0] = append(splits[0], makeRecord(u, "docstring-stripped", msgs, n))
				card.Augmented["docstring-stripped"]++
				card.perSource[u.Repo].Records++
			}
		}
	}
	finalIDs := map[string]bool{}
	for _, u := range final {
		finalIDs[u.ID] = true
	}
	for _, pe := range papers {
		u := byID[pe.unitID]
		if u == nil || !finalIDs[u.ID] {
			drops.add("paper-unit-dropped", 1)
			continue
		}
		msgs := paperMessages(pe, u)
		n, err := tokens.Count(recordText(msgs))
		if err != nil || n > opts.MaxTokens {
			drops.add("too-long", 1)
			continue
		}
		r := makeRecord(u, "", msgs, n)
		r.ID += "@paper:" + pe.Paper + "#" + pe.Section
		r.Task = "paper"
		splits[splitOf[u.ID]] = append(splits[splitOf[u.ID]], r)
		card.Papers++
		card.perSource[u.Repo].Records++
	}

	card.Records = map[string]int{}
	card.Tokens = TokenCard{Counter: tokens.Describe(), MaxTokens: opts.MaxTokens, Splits: map[string]TokenStats{}}
	for s := range splits {
		sort.SliceStable(splits[s], func(i, j int) bool { return recordKey(splits[s][i]) < recordKey(splits[s][j]) })
		card.Records[splitNames[s]] = len(splits[s])
		var lens []int
		for _, r := range splits[s] {
			lens = append(lens, r.Tokens)
		}
		card.Tokens.Splits[splitNames[s]] = tokenStats(lens)
	}
	card.Drops = drops.snapshot()
	card.Secrets = secretsFound.snapshot()
	mean := 0.0
	if len(styled) > 0 {
		mean = scoreSum / float64(len(styled))
	}
	card.Style = StyleCard{Threshold: opts.MinStyle, MeanScore: roundTo(mean, 2), Summary: profile.Summary()}
	card.Dedup = fmt.Sprintf("exact (normalised code) and near duplicates: MinHash, %d permutations, %d-gram token shingles, LSH %d bands x %d rows, Jaccard >= %.1f", numPerm, shingleSize, lshBands, lshRows, nearDupJacc)
	card.Split = fmt.Sprintf("%d/%d/%d by sha256 of the unit cluster's identity (a class with its methods, near duplicates together)", opts.Split[0], opts.Split[1], opts.Split[2])

	// Write, check that no secret value reached any file, and rename into
	// place.
	files := map[string][]byte{}
	for s, recs := range splits {
		var b bytes.Buffer
		for _, r := range recs {
			line, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		files[splitNames[s]+".jsonl"] = b.Bytes()
	}
	cj, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return nil, err
	}
	files["card.json"] = append(cj, '\n')
	files["card.md"] = []byte(card.Markdown())
	for name, data := range files {
		for _, f := range global {
			if bytes.Contains(data, []byte(f.Value)) {
				return nil, fmt.Errorf("internal check failed: a secret found by rule %s would reach %s; nothing was written", f.Rule, name)
			}
		}
	}
	stage := filepath.Join(tmp, "out")
	if err := os.Mkdir(stage, 0o755); err != nil {
		return nil, err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(stage, name), data, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if err := replaceDir(stage, out); err != nil {
		return nil, err
	}
	return card, nil
}

// checkOut refuses an --out that holds something other than an r2c
// dataset, so a typo cannot replace a folder of the user's.
func checkOut(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("--out %s: %w", out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(out, "card.json")); err != nil {
		return usagef("--out %s is not empty and holds no r2c dataset (no card.json): pick a new or empty folder", out)
	}
	return nil
}

// replaceDir puts stage at out, moving an earlier dataset aside first and
// removing it only once the new one is in place.
func replaceDir(stage, out string) error {
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = stage + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("moving the earlier %s aside: %w", out, err)
		}
	}
	if err := os.Rename(stage, out); err != nil {
		if old != "" {
			_ = os.Rename(old, out)
		}
		return fmt.Errorf("moving the dataset into %s: %w", out, err)
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// filterAuthors keeps the units whose non-blank lines were at least
// AuthorShare written by authors (email or name, lowercase) and since the
// given time. A notebook's cells do not map to lines of its JSON, so a
// notebook unit is judged by the whole file's lines.
func filterAuthors(us []*unit, lines []lineAuthor, src []byte, authors map[string]bool, since time.Time, drops *counter) []*unit {
	srcLines := strings.Split(string(src), "\n")
	ok := func(l lineAuthor) bool {
		if len(authors) > 0 && !authors[l.Email] && !authors[strings.ToLower(l.Name)] {
			return false
		}
		return since.IsZero() || !l.Time.Before(since)
	}
	share := func(from, to int) float64 {
		mine, total := 0, 0
		for i := from; i <= to && i < len(lines); i++ {
			if i < len(srcLines) && strings.TrimSpace(srcLines[i]) == "" {
				continue
			}
			total++
			if ok(lines[i]) {
				mine++
			}
		}
		if total == 0 {
			return 0
		}
		return float64(mine) / float64(total)
	}
	var out []*unit
	for _, u := range us {
		var s float64
		if u.Notebook {
			mine := 0
			for _, l := range lines {
				if ok(l) {
					mine++
				}
			}
			if len(lines) > 0 {
				s = float64(mine) / float64(len(lines))
			}
		} else {
			s = share(u.StartLine, u.EndLine)
		}
		if s < AuthorShare {
			if len(authors) > 0 {
				drops.add("other-author", 1)
			} else {
				drops.add("before-since", 1)
			}
			continue
		}
		out = append(out, u)
	}
	return out
}

// parallel runs f for 0..n-1 on up to workers goroutines.
func parallel(ctx context.Context, workers, n int, f func(i int) error) error {
	p := pool.New().WithContext(ctx).WithMaxGoroutines(workers).WithCancelOnError()
	for i := 0; i < n; i++ {
		p.Go(func(context.Context) error { return f(i) })
	}
	return p.Wait()
}

func normalizeCode(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.Join(lines, "\n")
}

func hashKey(s string) uint64 {
	h := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(h[:8])
}

// splitFor places an identity in train (0), validation (1) or test (2) by
// its hash, the same on every run and machine.
func splitFor(key string, shares [3]int) int {
	b := int(hashKey(key) % 10000)
	switch {
	case b < shares[0]*100:
		return 0
	case b < (shares[0]+shares[1])*100:
		return 1
	}
	return 2
}

func recordKey(r Record) string { return r.ID + "\x00" + r.Augmented }

func roundTo(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

func makeRecord(u *unit, augmented string, msgs []Message, tokens int) Record {
	return Record{ID: u.ID, Source: u.Repo + ":" + u.Path, Kind: u.Kind, Task: "implement", Augmented: augmented, Tokens: tokens, Messages: msgs}
}

// recordText is what the token count covers: every message's content.
func recordText(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// paraphrases are the instruction's openings; 0 is the original, the
// others are the "paraphrase" augmentation.
var paraphrases = []string{
	"Implement the Python %s `%s` in `%s`.",
	"Write the %s `%s` for the module `%s`.",
	"Complete the body of the %s `%s` (module `%s`).",
	"Here is the outline of the %s `%s` from `%s`. Write the full code.",
}

func implementMessages(u *unit, stripDoc bool, variant int) []Message {
	var b strings.Builder
	fmt.Fprintf(&b, paraphrases[variant], u.Kind, u.Name, u.Path)
	b.WriteString("\n\n")
	if u.Context != "" {
		b.WriteString("Module context:\n```python\n")
		b.WriteString(u.Context)
		b.WriteString("\n```\n\n")
	}
	b.WriteString("Signature")
	if u.Docstring != "" && !stripDoc {
		b.WriteString(" and docstring")
	}
	b.WriteString(":\n```python\n")
	b.WriteString(u.Signature)
	if u.Docstring != "" && !stripDoc {
		b.WriteString("\n")
		b.WriteString(indent(u.Docstring, "    "))
	}
	b.WriteString("\n```")
	if stripDoc {
		b.WriteString("\n\nWrite the docstring too.")
	}
	return []Message{
		{Role: "system", Content: SystemPrompt},
		{Role: "user", Content: b.String()},
		{Role: "assistant", Content: u.Code},
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
