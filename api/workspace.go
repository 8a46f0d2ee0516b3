package api

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/style"
)

// workspace loads the effective configuration and style profile of the
// server's root, afresh for each request so an edited r2c.toml or a
// relearned profile takes effect without a restart.
func (s *Server) workspace() (config.Config, *style.Profile, error) {
	cfg, err := config.Load(s.opts.Root)
	if err != nil {
		return config.Config{}, nil, newError(http.StatusInternalServerError, codeEnvironment, "workspace configuration: %v", err)
	}
	p := cfg.Style.Profile
	if p == "" {
		return cfg, nil, nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.opts.Root, p)
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return cfg, nil, nil
	}
	prof, err := style.LoadProfile(p)
	if err != nil {
		return cfg, nil, newError(http.StatusInternalServerError, codeEnvironment, "style profile: %v", err)
	}
	return cfg, prof, nil
}

// resolvePath maps a path named in a request to a file under one of the
// allowed roots. Only relative paths that stay inside the root are taken:
// no "..", no absolute path, and no symlink that leads out of the root.
func (s *Server) resolvePath(name string) (string, error) {
	if name == "" {
		return "", badRequest("empty path")
	}
	if strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
		return "", badRequest("path %q: backslashes and NUL bytes are not accepted", name)
	}
	if filepath.IsAbs(name) || !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", badRequest("path %q: give a path relative to the served root, without ..", name)
	}
	var lastErr error
	for _, root := range s.opts.AllowedRoots {
		p := filepath.Join(root, filepath.FromSlash(name))
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			lastErr = err
			continue
		}
		if !within(root, real) {
			return "", newError(http.StatusForbidden, codeBadRequest, "path %q leads out of the served root (symlink)", name)
		}
		return real, nil
	}
	if errors.Is(lastErr, fs.ErrNotExist) {
		return "", newError(http.StatusNotFound, codeNotFound, "no file %q under the served root", name)
	}
	return "", badRequest("path %q: %v", name, lastErr)
}

// within reports whether p is root or below it (both cleaned, absolute).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel == "." || filepath.IsLocal(rel)
}

// checkUploadName accepts a file name for an upload: one relative,
// slash-separated path that stays where it is put.
func checkUploadName(name string) error {
	if name == "" || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) ||
		strings.HasPrefix(name, "/") || !filepath.IsLocal(filepath.FromSlash(name)) {
		return badRequest("file name %q: want a relative path without .., backslashes or NUL", name)
	}
	if len(name) > 255 {
		return badRequest("file name %q…: longer than 255 bytes", name[:40])
	}
	return nil
}
