package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// gitRepo is a repository a test builds with the git binary, committing as
// different authors.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not installed; the tests build their repositories with it")
	}
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "proj")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("", "init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(author string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	name := "nobody"
	if author != "" {
		name = strings.Split(author, "@")[0]
	} else {
		author = "nobody@example.com"
	}
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+author,
		"GIT_COMMITTER_NAME="+name, "GIT_COMMITTER_EMAIL="+author, "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.dir,
		"GIT_AUTHOR_DATE=2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files and commits them as author.
func (r *gitRepo) commit(author string, files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git(author, "add", "-f", "-A")
	r.git(author, "commit", "-q", "-m", "work by "+author)
}

// fake builds secret-shaped values at run time from a seeded generator, so
// that this file carries no secret a scanner would flag.
func fake(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(b)
}

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64   = alnum + "+/"
)

// plantedSecrets are the secrets of the test repository, by kind.
func plantedSecrets() map[string]string {
	rng := rand.New(rand.NewSource(7))
	return map[string]string{
		"aws-key-id":   "AKIA" + fake(rng, upnum, 16),
		"aws-secret":   fake(rng, b64, 40),
		"github":       "ghp" + "_" + fake(rng, alnum, 36),
		"huggingface":  "hf" + "_" + fake(rng, alnum, 34),
		"openai":       "sk-" + "proj-" + fake(rng, alnum, 48),
		"slack":        "xox" + "b-" + fake(rng, "0123456789", 12) + "-" + fake(rng, "0123456789", 13) + "-" + fake(rng, alnum, 24),
		"url-password": "Pw" + fake(rng, alnum, 14),
		"password":     "hunter2" + fake(rng, "abcdefgh", 5),
		"private-key":  "-----BEGIN RSA " + "PRIVATE KEY-----\n" + fake(rng, b64, 64) + "\n" + fake(rng, b64, 64) + "\n-----END RSA " + "PRIVATE KEY-----",
	}
}

const coreSrc = `"""Core helpers."""
import json
import os
from collections import (
    Counter,
    defaultdict,
)


def parse_config(path):
    """Read a JSON configuration file.

    Args:
        path: where the file is.
    """
    with open(path) as handle:
        data = json.load(handle)
    return {key.lower(): value for key, value in data.items()}


def compute_stats(values):
    """Return the mean and the spread of values."""
    total = sum(values)
    mean = total / len(values)
    spread = max(values) - min(values)
    counts = Counter(values)
    return mean, spread, counts.most_common(1)


def noop():
    pass


class Tracker:
    """Track running totals per key."""

    def __init__(self):
        self.totals = defaultdict(int)
        self.seen = 0

    def update(self, key, amount):
        """Add amount to key's total."""
        self.totals[key] += amount
        self.seen += 1
        return self.totals[key]
`

func secretsSrc(s map[string]string) string {
	return `import os


def connect():
    """Open the database and the cloud clients."""
    url = "postgresql://admin:` + s["url-password"] + `@db.internal:5432/app"
    password = "` + s["password"] + `"
    aws_access_key_id = "` + s["aws-key-id"] + `"
    aws_secret_access_key = "` + s["aws-secret"] + `"
    github = "` + s["github"] + `"
    hub = "` + s["huggingface"] + `"
    openai_client = make_client("` + s["openai"] + `")
    slack = "` + s["slack"] + `"
    key = """` + s["private-key"] + `"""
    return os.path.join(url, password, aws_access_key_id, aws_secret_access_key, github, hub, slack, key), openai_client
`
}

// notebook is a Jupyter notebook with a magic, a markdown cell and a
// function in a code cell.
const notebook = `{"cells": [
 {"cell_type": "markdown", "source": ["# Analysis"]},
 {"cell_type": "code", "source": ["%matplotlib inline\n", "import math\n"]},
 {"cell_type": "code", "source": "def circle_area(radius):\n    \"\"\"Area of a circle.\"\"\"\n    squared = radius * radius\n    return math.pi * squared\n"}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`

const bobSrc = `def bob_helper(items):
    """Bob's own helper."""
    result = []
    for item in items:
        result.append(item * 2)
    return result
`

// nearSrc is compute_stats with one line changed: a near duplicate.
const nearSrc = `from collections import Counter


def compute_stats(values):
    """Return the mean and the spread of values."""
    total = sum(values)
    mean = total / len(values)
    spread = max(values) - min(values)
    counts = Counter(values)
    return mean, spread, counts.most_common(2)
`

// dupSrc is compute_stats exactly: a duplicate.
const dupSrc = `from collections import Counter


def compute_stats(values):
    """Return the mean and the spread of values."""
    total = sum(values)
    mean = total / len(values)
    spread = max(values) - min(values)
    counts = Counter(values)
    return mean, spread, counts.most_common(1)
`

func vendoredSrc(name string) string {
	return "def " + name + "(a, b):\n    \"\"\"Vendored.\"\"\"\n    c = a + b\n    return c * 2\n"
}

// buildTestRepo makes the repository the dataset tests read.
func buildTestRepo(t *testing.T) *gitRepo {
	r := newGitRepo(t)
	r.commit("alice@example.com", map[string]string{
		".gitignore":               "ignored_*.py\n",
		"pkg/core.py":              coreSrc,
		"pkg/secrets.py":           secretsSrc(plantedSecrets()),
		"pkg/near.py":              nearSrc,
		"pkg/dup.py":               dupSrc,
		"notebooks/analysis.ipynb": notebook,
		"notebooks/broken.ipynb":   "{not json",
		"vendor/lib.py":            vendoredSrc("vendored"),
		"venv/lib/site.py":         vendoredSrc("venv_code"),
		"build/out.py":             vendoredSrc("built"),
		"api_pb2.py":               vendoredSrc("generated_stub"),
		"gen.py":                   "# Code generated by a tool. DO NOT EDIT.\n" + vendoredSrc("generated"),
		"ignored_scratch.py":       vendoredSrc("scratch"),
		"blob.py":                  "def x():\x00\n",
		"big.py":                   strings.Repeat("x = 1  # generated data\n", 50<<20/24),
		"min.py":                   "def minified(a):\n    return " + strings.Repeat("a+", 700) + "a\n",
	})
	r.commit("bob@example.com", map[string]string{"pkg/bob.py": bobSrc})
	return r
}

func readSplits(t *testing.T, out string) (map[string][]Record, map[string][]byte) {
	t.Helper()
	recs := map[string][]Record{}
	files := map[string][]byte{}
	for _, name := range []string{"train.jsonl", "validation.jsonl", "test.jsonl", "card.json", "card.md"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
		if !strings.HasSuffix(name, ".jsonl") {
			continue
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			recs[name] = append(recs[name], r)
		}
	}
	return recs, files
}

func TestDatasetUnitsSecretsAndDeterminism(t *testing.T) {
	r := buildTestRepo(t)
	out := filepath.Join(t.TempDir(), "ds")
	var log bytes.Buffer
	card, err := Dataset(context.Background(), DatasetOptions{Repos: []string{r.dir}, Out: out, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	recs, files := readSplits(t, out)

	// Exactly these units, each once as an original pair.
	var ids []string
	for name, rs := range recs {
		for _, rec := range rs {
			if rec.Augmented == "" {
				ids = append(ids, rec.ID)
			} else if name != "train.jsonl" {
				t.Errorf("augmented record %s (%s) in %s", rec.ID, rec.Augmented, name)
			}
		}
	}
	sort.Strings(ids)
	want := []string{
		"proj:notebooks/analysis.ipynb:circle_area",
		"proj:pkg/bob.py:bob_helper",
		"proj:pkg/core.py:Tracker",
		"proj:pkg/core.py:Tracker.__init__",
		"proj:pkg/core.py:Tracker.update",
		"proj:pkg/core.py:compute_stats",
		"proj:pkg/core.py:parse_config",
		"proj:pkg/secrets.py:connect",
	}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Errorf("units:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}

	// Every drop reason accounted for.
	wantDrops := map[string]int{
		"vendored-or-environment": 3, "gitignored": 1, "generated": 2, "too-large": 1, "binary": 1,
		"minified": 1, "notebook-invalid": 1, "trivial": 1, "duplicate": 1, "near-duplicate": 1,
	}
	for reason, n := range wantDrops {
		if card.Drops[reason] != n {
			t.Errorf("drops[%s] = %d, want %d (all: %v)", reason, card.Drops[reason], n, card.Drops)
		}
	}
	if !strings.Contains(log.String(), "broken.ipynb") || !strings.Contains(log.String(), "not valid JSON") {
		t.Errorf("no warning naming the broken notebook:\n%s", log.String())
	}

	// No secret value anywhere; each kind found; placeholders in place.
	for kind, v := range plantedSecrets() {
		for name, data := range files {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("%s secret leaked into %s", kind, name)
			}
		}
		if strings.Contains(log.String(), v) {
			t.Errorf("%s secret leaked into the log", kind)
		}
	}
	total := 0
	for _, n := range card.Secrets {
		total += n
	}
	if total < len(plantedSecrets()) {
		t.Errorf("secrets found %v (%d), want at least %d", card.Secrets, total, len(plantedSecrets()))
	}
	for _, rule := range []string{"r2c-url-credentials", "r2c-credential-assignment", "r2c-private-key"} {
		found := card.Secrets[rule] > 0
		if !found && rule == "r2c-private-key" {
			found = card.Secrets["private-key"] > 0
		}
		if !found {
			t.Errorf("rule %s found nothing: %v", rule, card.Secrets)
		}
	}
	var connect *Record
	for _, rs := range recs {
		for i := range rs {
			if rs[i].ID == "proj:pkg/secrets.py:connect" && rs[i].Augmented == "" {
				connect = &rs[i]
			}
		}
	}
	if connect == nil {
		t.Fatal("no connect record")
	}
	code := connect.Messages[2].Content
	for _, ph := range []string{"<PASSWORD>", "<PRIVATE_KEY>"} {
		if !strings.Contains(code, ph) {
			t.Errorf("connect lacks placeholder %s:\n%s", ph, code)
		}
	}

	// A method's record carries its class header and the file's imports.
	for _, rs := range recs {
		for _, rec := range rs {
			if rec.ID == "proj:pkg/core.py:Tracker.update" && rec.Augmented == "" {
				u := rec.Messages[1].Content
				for _, want := range []string{"class Tracker:", "from collections import (", "def update(self, key, amount):", `"""Add amount to key's total."""`} {
					if !strings.Contains(u, want) {
						t.Errorf("update's instruction lacks %q:\n%s", want, u)
					}
				}
				if !strings.HasPrefix(rec.Messages[2].Content, "def update(self, key, amount):\n    \"\"\"Add") {
					t.Errorf("update's answer is not the dedented method:\n%s", rec.Messages[2].Content)
				}
			}
		}
	}

	// Byte-identical on a second run, into a new folder and over the old.
	out2 := filepath.Join(t.TempDir(), "ds2")
	if _, err := Dataset(context.Background(), DatasetOptions{Repos: []string{r.dir}, Out: out2, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	_, files2 := readSplits(t, out2)
	for name := range files {
		if !bytes.Equal(files[name], files2[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
	if _, err := Dataset(context.Background(), DatasetOptions{Repos: []string{r.dir}, Out: out}); err != nil {
		t.Fatalf("replacing an earlier dataset: %v", err)
	}
}

func TestDatasetAuthorFilter(t *testing.T) {
	r := buildTestRepo(t)
	out := filepath.Join(t.TempDir(), "ds")
	card, err := Dataset(context.Background(), DatasetOptions{Repos: []string{r.dir}, Out: out, Authors: []string{"Bob@Example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := readSplits(t, out)
	var ids []string
	for _, rs := range recs {
		for _, rec := range rs {
			if rec.Augmented == "" {
				ids = append(ids, rec.ID)
			}
		}
	}
	if len(ids) != 1 || ids[0] != "proj:pkg/bob.py:bob_helper" {
		t.Errorf("units with --author bob: %v", ids)
	}
	if card.Drops["other-author"] != 9 { // 7 units, the duplicate and the near duplicate
		t.Errorf("other-author drops = %d, want 9 (%v)", card.Drops["other-author"], card.Drops)
	}
}

func TestDatasetBadInput(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	out := filepath.Join(parent, "ds")
	noTmpLeft := func() {
		t.Helper()
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			t.Errorf("left behind in --out's parent: %s", e.Name())
		}
	}

	_, err := Dataset(ctx, DatasetOptions{Repos: []string{t.TempDir()}, Out: out})
	if !IsUsage(err) || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("not a repository: %v", err)
	}
	empty := newGitRepo(t)
	_, err = Dataset(ctx, DatasetOptions{Repos: []string{empty.dir}, Out: out})
	if !IsUsage(err) || !strings.Contains(err.Error(), "no commits") {
		t.Errorf("empty repository: %v", err)
	}
	_, err = Dataset(ctx, DatasetOptions{Out: out})
	if !IsUsage(err) {
		t.Errorf("no --repo: %v", err)
	}
	noTmpLeft()

	r := newGitRepo(t)
	r.commit("alice@example.com", map[string]string{"pkg/core.py": coreSrc, "pkg/bob.py": bobSrc})
	mapping := filepath.Join(t.TempDir(), "papers.json")
	os.WriteFile(mapping, []byte(`[{"paper": "P", "section": "3 Method", "text": "We compute the mean.", "file": "pkg/core.py", "symbol": "compute_mean"}]`), 0o644)
	_, err = Dataset(ctx, DatasetOptions{Repos: []string{r.dir}, Out: out, Papers: mapping})
	if !IsUsage(err) || !strings.Contains(err.Error(), "compute_mean") || !strings.Contains(err.Error(), "compute_stats") {
		t.Errorf("missing symbol: %v", err)
	}
	noTmpLeft()

	// A mapping that resolves gives a paper pair.
	os.WriteFile(mapping, []byte(`[{"paper": "P", "section": "3 Method", "text": "We compute the mean and the spread.", "file": "pkg/core.py", "symbol": "compute_stats"}]`), 0o644)
	card, err := Dataset(ctx, DatasetOptions{Repos: []string{r.dir}, Out: out, Papers: mapping})
	if err != nil || card.Papers != 1 {
		t.Fatalf("paper pair: %v, %+v", err, card)
	}

	// A corrupt blob is dropped with a warning that names git fsck.
	hash := r.git("", "rev-parse", "HEAD:pkg/bob.py")
	obj := filepath.Join(r.dir, ".git", "objects", hash[:2], hash[2:])
	os.Chmod(obj, 0o644)
	if err := os.WriteFile(obj, []byte("garbage, not zlib"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	card, err = Dataset(ctx, DatasetOptions{Repos: []string{r.dir}, Out: out, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if card.Drops["unreadable-object"] != 1 || !strings.Contains(log.String(), "git fsck") {
		t.Errorf("corrupt object: drops %v, log %s", card.Drops, log.String())
	}

	// An --out that holds someone's files is refused and left alone.
	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	_, err = Dataset(ctx, DatasetOptions{Repos: []string{r.dir}, Out: mine})
	if !IsUsage(err) {
		t.Errorf("non-dataset --out: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(b) != "mine" {
		t.Error("non-dataset --out was touched")
	}
}
