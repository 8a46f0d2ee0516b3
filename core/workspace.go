package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/style"
)

// FindRoot returns the workspace root for a file or folder: the nearest
// folder at or above dir holding r2c.toml or .git, else dir itself (made
// absolute). Every front door finds the same root for the same file.
func FindRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for d := abs; ; d = filepath.Dir(d) {
		for _, marker := range []string{config.FileName, ".git"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		if d == filepath.Dir(d) {
			return abs
		}
	}
}

// LoadConfig returns the effective configuration of a workspace root:
// config.Load (defaults, the user file, root/r2c.toml, R2C_* variables),
// then each override in order (flags, initializationOptions, settings,
// request fields) merged with config.Merge. Relative folders an override
// names are taken relative to root, as those of r2c.toml are. A root of ""
// resolves nothing. The result is validated; on an error the returned
// configuration is still the best effort, for a front door that must keep
// serving.
func LoadConfig(root string, overrides ...config.Config) (config.Config, error) {
	cfg, err := config.Load(root)
	for _, over := range overrides {
		if root != "" {
			over.ResolvePaths(root)
		}
		cfg.Merge(over)
	}
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// ProfilePath is where the configured style profile lives ("" when none is
// configured); a relative style.profile is relative to root.
func ProfilePath(cfg config.Config, root string) string {
	p := cfg.Style.Profile
	if p != "" && !filepath.IsAbs(p) && root != "" {
		p = filepath.Join(root, p)
	}
	return p
}

// LoadProfile reads the style profile at path, or the configured one when
// path is "". A configured profile that does not exist is no profile (nil,
// nil): style is then not checked. A named or broken one is an error. The
// profile carries style.min_evidence (WithMinEvidence).
func LoadProfile(cfg config.Config, root, path string) (*style.Profile, error) {
	if path == "" {
		path = ProfilePath(cfg, root)
		if path == "" {
			return nil, nil
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	p, err := style.LoadProfile(path)
	if err != nil {
		return nil, fmt.Errorf("style profile: %w", err)
	}
	return WithMinEvidence(p, cfg), nil
}

// WithMinEvidence returns p with cfg's style.min_evidence in force: the
// dimensions seen fewer times are ignored when checking. p itself is not
// changed (it may be shared by concurrent requests); nil stays nil.
func WithMinEvidence(p *style.Profile, cfg config.Config) *style.Profile {
	if p == nil {
		return nil
	}
	q := *p
	q.MinEvidence = cfg.Style.MinEvidence
	return &q
}
