package api

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/internal/safepath"
	"github.com/r2c-ai/r2c/style"
)

// workspace loads the effective configuration and style profile of the
// server's root (the core's rules, min_evidence included), afresh for each
// request so an edited r2c.toml or a relearned profile takes effect
// without a restart.
func (s *Server) workspace() (config.Config, *style.Profile, error) {
	cfg, err := core.LoadConfig(s.opts.Root)
	if err != nil {
		return config.Config{}, nil, newError(http.StatusInternalServerError, codeEnvironment, "workspace configuration: %v", err)
	}
	prof, err := core.LoadProfile(cfg, s.opts.Root, "")
	if err != nil {
		return cfg, nil, newError(http.StatusInternalServerError, codeEnvironment, "style profile: %v", err)
	}
	return cfg, prof, nil
}

// resolvePath maps a path named in a request to a file under one of the
// allowed roots. Only relative paths that stay inside the root are taken
// (safepath's rule: no "..", no absolute path), and no symlink may lead
// out of the root.
func (s *Server) resolvePath(name string) (string, error) {
	if _, err := safepath.Clean(name); err != nil {
		return "", badRequest("%v: give a path relative to the served root", err)
	}
	var lastErr error
	for _, root := range s.opts.AllowedRoots {
		p, _ := safepath.Join(root, name)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			lastErr = err
			continue
		}
		if _, ok := safepath.Within(root, real); !ok {
			return "", newError(http.StatusForbidden, codeBadRequest, "path %q leads out of the served root (symlink)", name)
		}
		return real, nil
	}
	if errors.Is(lastErr, fs.ErrNotExist) {
		return "", newError(http.StatusNotFound, codeNotFound, "no file %q under the served root", name)
	}
	return "", badRequest("path %q: %v", name, lastErr)
}

// checkUploadName accepts a file name for an upload: one relative,
// slash-separated path in clean form (safepath.Check).
func checkUploadName(name string) error {
	if err := safepath.Check(name); err != nil {
		return badRequest("file name: %v", err)
	}
	if len(name) > 255 {
		return badRequest("file name %q…: longer than 255 bytes", name[:40])
	}
	return nil
}
