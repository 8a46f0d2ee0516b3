package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/core"
	"github.com/r2c-ai/r2c/style"
)

// unwrapSettings accepts settings either as r2c's configuration object or
// nested under an "r2c" key, as VS Code and Neovim users tend to send them.
func unwrapSettings(raw []byte) []byte {
	// Lua clients encode an empty table as [] (Neovim sends its empty
	// settings that way): no settings, not a broken configuration.
	if t := bytes.TrimSpace(raw); bytes.Equal(t, []byte("[]")) || bytes.Equal(t, []byte("null")) {
		return []byte("{}")
	}
	var outer map[string]json.RawMessage
	if json.Unmarshal(raw, &outer) == nil && len(outer) == 1 {
		if inner, ok := outer["r2c"]; ok {
			return inner
		}
	}
	return raw
}

func (s *Server) didChangeConfiguration(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidChangeConfigurationParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	var parseErr error
	if len(p.Settings) > 0 {
		over, err := config.ParseJSON(unwrapSettings(p.Settings))
		if err != nil {
			parseErr = err
		} else {
			s.mu.Lock()
			s.settings = over
			s.mu.Unlock()
		}
	}
	s.reloadConfig(parseErr)
	return nil, nil
}

// config returns the effective configuration.
func (s *Server) config() config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// styleProfile returns the loaded profile, nil when there is none.
func (s *Server) styleProfile() *style.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile
}

// rootDir is the workspace root ("" when the client opened no folder).
func (s *Server) rootDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root
}

// workspacePath resolves a configured path against the workspace root.
func (s *Server) workspacePath(p string) string {
	s.mu.Lock()
	root := s.root
	s.mu.Unlock()
	if p == "" || filepath.IsAbs(p) || root == "" {
		return p
	}
	return filepath.Join(root, p)
}

// reloadConfig rebuilds the effective configuration — defaults, user file,
// r2c.toml at the workspace root, environment, initializationOptions, then
// didChangeConfiguration settings — and reloads what depends on it. Problems
// are shown to the user with the fix; the last good parts stay in force.
func (s *Server) reloadConfig(extra error) {
	s.mu.Lock()
	root, initOpts, settings := s.root, s.initOptions, s.settings
	s.mu.Unlock()

	cfg, err := core.LoadConfig(root, initOpts, settings)
	if s.opts.LogFile != "" {
		cfg.Server.LogFile = s.opts.LogFile
	}
	if err := errors.Join(extra, err); err != nil {
		where := "the editor's r2c settings"
		if root != "" {
			where = fmt.Sprintf("%s or the editor's r2c settings", filepath.Join(root, config.FileName))
		}
		s.showMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: configuration problem: %v. Fix it in %s; `r2c doctor` prints the effective configuration.", err, where))
	}
	s.log.open(s.workspacePath(cfg.Server.LogFile))

	profilePath := core.ProfilePath(cfg, root)
	profile, err := core.LoadProfile(cfg, root, "")
	if err != nil {
		s.showMessage(protocol.MessageTypeError, fmt.Sprintf("r2c: cannot read the %v. Learn it again with the code action \"r2c: Learn my style from this workspace\".", err))
	}

	s.mu.Lock()
	s.cfg = cfg
	s.profile = profile
	s.profilePath = profilePath
	s.mu.Unlock()
	s.syncWatchers() // style.profile may now name another file
	s.diags.recheckAll()
}

// hintMissingProfile tells the user, once per session, how to get style
// diagnostics beyond syntax errors.
func (s *Server) hintMissingProfile() {
	s.mu.Lock()
	if s.profile != nil || s.profileHintShown {
		s.mu.Unlock()
		return
	}
	s.profileHintShown = true
	path := s.profilePath
	s.mu.Unlock()
	s.showMessage(protocol.MessageTypeInfo, fmt.Sprintf(
		"r2c: no style profile at %s, so only syntax errors are reported. Learn your style with the code action \"r2c: Learn my style from this workspace\" (command %s) or `r2c style learn`; set style.profile in r2c.toml to use another file.",
		path, CommandLearnStyle))
}
