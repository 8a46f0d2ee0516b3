package trainer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/r2c-ai/r2c/style"
)

// UsageError is an error in what the user asked for (a path that is not a
// repository, a mapping naming a missing symbol): the command line should be
// fixed, so the CLI exits 2 for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

func usagef(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// MaxFileSize is the largest file read from a repository. Larger "Python"
// files are generated data (or fixtures); they are counted as "too-large"
// from the object's size alone, without reading them.
const MaxFileSize = 1 << 20

// repoSource is one opened repository.
type repoSource struct {
	Spec    string // as given on the command line
	Name    string // short name used in unit identities
	Dir     string // where git commands run (work tree or bare repository)
	Commit  string // HEAD commit hash
	License string
	repo    *git.Repository
	commit  *object.Commit
	blameMu sync.Mutex // go-git's blame reads objects; one at a time per repository
}

// isURL reports whether spec names a remote repository rather than a path.
func isURL(spec string) bool {
	return strings.Contains(spec, "://") || (strings.HasPrefix(spec, "git@") && strings.Contains(spec, ":"))
}

// openRepo opens a local repository (work tree, bare or shallow) or clones
// a URL, bare, into tmp.
func openRepo(ctx context.Context, spec, tmp string) (*repoSource, error) {
	rs := &repoSource{Spec: spec}
	var err error
	if isURL(spec) {
		rs.Dir, err = os.MkdirTemp(tmp, "clone-")
		if err != nil {
			return nil, err
		}
		rs.repo, err = git.PlainCloneContext(ctx, rs.Dir, true, &git.CloneOptions{URL: spec})
		if errors.Is(err, git.ErrRepositoryNotExists) || errors.Is(err, plumbing.ErrReferenceNotFound) {
			return nil, usagef("%s: cannot clone: %w (check the URL)", spec, err)
		}
		if err != nil && strings.Contains(err.Error(), "remote repository is empty") {
			return nil, usagef("%s has no commits yet: commit some Python first", spec)
		}
		if err != nil {
			return nil, fmt.Errorf("cloning %s: %w", spec, err)
		}
		rs.Name = strings.TrimSuffix(path.Base(strings.TrimSuffix(spec, "/")), ".git")
	} else {
		abs, err := filepath.Abs(spec)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, usagef("repository %s: %w", spec, err)
		}
		rs.repo, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
		if errors.Is(err, git.ErrRepositoryNotExists) && looksBare(abs) {
			// a bare repository without a config file (mirrors, some
			// backups): go-git's PlainOpen wants one, its storage does not
			rs.repo, err = git.Open(filesystem.NewStorage(osfs.New(abs), cache.NewObjectLRUDefault()), nil)
		}
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, usagef("%s is not a git repository: pass a folder inside a git work tree, a bare repository or a URL", spec)
		}
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", spec, err)
		}
		rs.Dir = abs
		rs.Name = strings.TrimSuffix(filepath.Base(abs), ".git")
	}
	head, err := rs.repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, usagef("%s has no commits yet: commit some Python first", spec)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading HEAD: %w", spec, err)
	}
	rs.commit, err = rs.repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("%s: reading commit %s: %w (the repository may be corrupt: run git fsck)", spec, head.Hash(), err)
	}
	rs.Commit = head.Hash().String()
	return rs, nil
}

// looksBare reports a folder with the layout of a bare repository.
func looksBare(dir string) bool {
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// treeFile is a candidate file of a repository's HEAD tree.
type treeFile struct {
	Path string
	Hash plumbing.Hash
	Size int64
}

// listFiles returns the Python and notebook files of HEAD that are the
// user's own, sorted by path, and counts the others by drop reason.
func (rs *repoSource) listFiles(drops *counter) ([]treeFile, error) {
	tree, err := rs.commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("%s: reading tree of %s: %w (the repository may be corrupt: run git fsck)", rs.Spec, rs.Commit, err)
	}
	var patterns []gitignore.Pattern
	var cands []treeFile
	venvDirs := map[string]bool{}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: walking tree of %s: %w (the repository may be corrupt: run git fsck)", rs.Spec, rs.Commit, err)
		}
		base := path.Base(name)
		switch {
		case entry.Mode == filemode.Dir || entry.Mode == filemode.Submodule:
			continue
		case base == ".gitignore":
			blob, err := rs.repo.BlobObject(entry.Hash)
			if err != nil {
				continue
			}
			data, err := readBlob(blob, MaxFileSize)
			if err != nil {
				continue
			}
			var domain []string
			if d := path.Dir(name); d != "." {
				domain = strings.Split(d, "/")
			}
			for _, line := range strings.Split(string(data), "\n") {
				line = strings.TrimRight(line, "\r")
				if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
					continue
				}
				patterns = append(patterns, gitignore.ParsePattern(line, domain))
			}
		case base == "pyvenv.cfg":
			venvDirs[path.Dir(name)] = true
		case strings.HasSuffix(base, ".py") || strings.HasSuffix(base, ".ipynb"):
			if entry.Mode != filemode.Regular && entry.Mode != filemode.Executable {
				drops.add("symlink", 1)
				continue
			}
			blob, err := rs.repo.BlobObject(entry.Hash)
			size := int64(-1)
			if err == nil {
				size = blob.Size
			}
			cands = append(cands, treeFile{Path: name, Hash: entry.Hash, Size: size})
		case rs.License == "" && !strings.Contains(name, "/") && isLicenseName(base):
			if blob, err := rs.repo.BlobObject(entry.Hash); err == nil {
				if data, err := readBlob(blob, 64<<10); err == nil {
					rs.License = detectLicense(data)
				}
			}
		}
	}
	if rs.License == "" {
		rs.License = "none found"
	}
	matcher := gitignore.NewMatcher(patterns)
	var out []treeFile
	for _, f := range cands {
		parts := strings.Split(f.Path, "/")
		switch {
		case skippedFolder(parts, venvDirs):
			drops.add("vendored-or-environment", 1)
		case matcher.Match(parts, false):
			drops.add("gitignored", 1)
		case strings.HasSuffix(f.Path, "_pb2.py") || strings.HasSuffix(f.Path, "_pb2_grpc.py"):
			drops.add("generated", 1)
		case f.Size > MaxFileSize:
			drops.add("too-large", 1)
		default:
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// skippedFolder applies the style engine's rule for folders that hold no
// code of the user's own (style.SkipDir) to each folder of a tree path, plus
// folders holding pyvenv.cfg in the tree. SkipDir also looks for pyvenv.cfg
// on disk; the path given to it lies under os.DevNull, so that look-up
// always fails and only the name rules (and venvDirs) decide.
func skippedFolder(parts []string, venvDirs map[string]bool) bool {
	for i := 0; i < len(parts)-1; i++ {
		if style.SkipDir(filepath.Join(os.DevNull, filepath.Join(parts[:i+1]...)), parts[i]) {
			return true
		}
		if venvDirs[strings.Join(parts[:i+1], "/")] {
			return true
		}
	}
	return false
}

func readBlob(blob *object.Blob, limit int64) ([]byte, error) {
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

func isLicenseName(base string) bool {
	u := strings.ToUpper(base)
	return strings.HasPrefix(u, "LICENSE") || strings.HasPrefix(u, "LICENCE") || strings.HasPrefix(u, "COPYING")
}

// detectLicense names the licence of a LICENSE file's text by its telltale
// phrases; the card records "unknown" rather than guessing.
func detectLicense(text []byte) string {
	t := strings.ToLower(string(text))
	switch {
	case strings.Contains(t, "apache license") && strings.Contains(t, "version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "gnu lesser general public license"):
		return "LGPL"
	case strings.Contains(t, "gnu affero general public license"):
		return "AGPL-3.0"
	case strings.Contains(t, "gnu general public license") && strings.Contains(t, "version 3"):
		return "GPL-3.0"
	case strings.Contains(t, "gnu general public license"):
		return "GPL-2.0"
	case strings.Contains(t, "mozilla public license"):
		return "MPL-2.0"
	case strings.Contains(t, "redistribution and use in source and binary forms"):
		return "BSD"
	case strings.Contains(t, "unlicense") || strings.Contains(t, "public domain"):
		return "Unlicense"
	}
	return "unknown"
}

// loadedFile is a file's text ready to be cut into units.
type loadedFile struct {
	Path     string
	Src      []byte
	Notebook bool
}

// errDrop is a file dropped for a counted reason, with a warning for the
// user where the file itself is broken.
type errDrop struct {
	reason  string
	warning string
}

func (e *errDrop) Error() string { return e.reason }

// loadFile reads one file and applies the content checks: binary,
// generated, minified, notebook JSON.
func (rs *repoSource) loadFile(f treeFile) (*loadedFile, error) {
	blob, err := rs.repo.BlobObject(f.Hash)
	if err != nil {
		return nil, &errDrop{"unreadable-object", fmt.Sprintf("%s: %s: cannot read object %s: %v (the repository may be corrupt: run git fsck)", rs.Spec, f.Path, f.Hash, err)}
	}
	data, err := readBlob(blob, MaxFileSize+1)
	if err != nil {
		return nil, &errDrop{"unreadable-object", fmt.Sprintf("%s: %s: cannot read object %s: %v (the repository may be corrupt: run git fsck)", rs.Spec, f.Path, f.Hash, err)}
	}
	if len(data) > MaxFileSize {
		return nil, &errDrop{reason: "too-large"}
	}
	lf := &loadedFile{Path: f.Path, Src: data}
	if strings.HasSuffix(f.Path, ".ipynb") {
		src, err := notebookCode(data)
		if err != nil {
			return nil, &errDrop{"notebook-invalid", fmt.Sprintf("%s: %s: %v", rs.Spec, f.Path, err)}
		}
		lf.Src, lf.Notebook = src, true
	}
	switch {
	case bytes.IndexByte(lf.Src, 0) >= 0:
		return nil, &errDrop{reason: "binary"}
	case style.IsGenerated(lf.Src):
		return nil, &errDrop{reason: "generated"}
	case isMinified(lf.Src):
		return nil, &errDrop{reason: "minified"}
	}
	return lf, nil
}

// isMinified reports code that no person wrote line by line: a line over
// 1,000 bytes, or a mean line length over 200.
func isMinified(src []byte) bool {
	lines := bytes.Split(src, []byte("\n"))
	total := 0
	for _, l := range lines {
		if len(l) > 1000 {
			return true
		}
		total += len(l)
	}
	return len(lines) > 0 && total/len(lines) > 200
}

// notebookCode joins the code cells of an .ipynb notebook into one Python
// source, cells separated by blank lines. IPython magics and shell escapes
// (lines starting with % or !) are not Python and are left out.
func notebookCode(data []byte) ([]byte, error) {
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("notebook is not valid JSON (%v): re-save it from Jupyter or remove it", err)
	}
	var out bytes.Buffer
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var text string
		var parts []string
		if err := json.Unmarshal(c.Source, &parts); err == nil {
			text = strings.Join(parts, "")
		} else if err := json.Unmarshal(c.Source, &text); err != nil {
			return nil, fmt.Errorf("notebook cell source is neither a string nor a list of strings")
		}
		if out.Len() > 0 {
			out.WriteString("\n\n")
		}
		for _, line := range strings.SplitAfter(text, "\n") {
			if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
				continue
			}
			out.WriteString(line)
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// lineAuthor is who last changed one line, and when.
type lineAuthor struct {
	Email string
	Name  string
	Time  time.Time
}

var (
	gitOnce sync.Once
	gitPath string
)

// blame returns the author of each line of a file at HEAD. It uses
// `git blame --line-porcelain` when the git binary is there, which is about
// 20x faster than go-git's Blame on a real history, and go-git otherwise.
func (rs *repoSource) blame(ctx context.Context, file string) ([]lineAuthor, error) {
	gitOnce.Do(func() { gitPath, _ = exec.LookPath("git") })
	if gitPath != "" {
		lines, err := gitBlame(ctx, rs.Dir, rs.Commit, file)
		if err == nil {
			return lines, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	rs.blameMu.Lock()
	defer rs.blameMu.Unlock()
	res, err := git.Blame(rs.commit, file)
	if err != nil {
		return nil, fmt.Errorf("blame %s: %w", file, err)
	}
	out := make([]lineAuthor, len(res.Lines))
	for i, l := range res.Lines {
		out[i] = lineAuthor{Email: strings.ToLower(l.Author), Name: l.AuthorName, Time: l.Date}
	}
	return out, nil
}

func gitBlame(ctx context.Context, dir, commit, file string) ([]lineAuthor, error) {
	cmd := exec.CommandContext(ctx, gitPath, "-C", dir, "blame", "--line-porcelain", commit, "--", file)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var out []lineAuthor
	var cur lineAuthor
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "\t"):
			out = append(out, cur)
		case strings.HasPrefix(line, "author-mail "):
			cur.Email = strings.ToLower(strings.Trim(strings.TrimPrefix(line, "author-mail "), "<>"))
		case strings.HasPrefix(line, "author-time "):
			if sec, err := strconv.ParseInt(strings.TrimPrefix(line, "author-time "), 10, 64); err == nil {
				cur.Time = time.Unix(sec, 0).UTC()
			}
		case strings.HasPrefix(line, "author "):
			cur.Name = strings.TrimPrefix(line, "author ")
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git blame %s: %w: %s", file, err, strings.TrimSpace(stderr.String()))
	}
	return out, sc.Err()
}
