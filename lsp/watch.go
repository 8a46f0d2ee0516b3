package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/config"
	"github.com/r2c-ai/r2c/internal/safepath"
)

// Files the server's state is read from — r2c.toml at the workspace root,
// the user's r2c.toml and the style profile — change behind its back when
// the user edits them or runs `r2c style learn` in a terminal. Clients that
// can register file watchers dynamically report such changes with
// workspace/didChangeWatchedFiles and the server reloads; other clients
// (Neovim before 0.9) need didChangeConfiguration or a restart.

// fileWatch is the server's one didChangeWatchedFiles registration.
type fileWatch struct {
	mu    sync.Mutex // serialises (un)registration with the client
	id    string     // the registration in force; "" when none
	paths []string   // the files it covers
	seq   int
}

// watchedPaths lists the files whose contents the effective configuration
// and style profile come from, sorted.
func (s *Server) watchedPaths() []string {
	s.mu.Lock()
	root, profile := s.root, s.profilePath
	s.mu.Unlock()
	var paths []string
	if root != "" {
		paths = append(paths, filepath.Join(root, config.FileName))
	}
	if dir, err := os.UserConfigDir(); err == nil {
		paths = append(paths, filepath.Join(dir, "r2c", config.FileName))
	}
	if profile != "" {
		if abs, err := filepath.Abs(profile); err == nil {
			profile = abs
		}
		paths = append(paths, profile)
	}
	for i, p := range paths {
		paths[i] = filepath.Clean(p)
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// syncWatchers (re)registers the file watchers when the set of watched
// files changed, off the read loop: registering is a request to the client.
// It does nothing before initialized or for clients without dynamic
// registration of didChangeWatchedFiles.
func (s *Server) syncWatchers() {
	s.mu.Lock()
	ok := s.caps.watchFiles && s.watchReady
	relative := s.caps.relativePatterns
	s.mu.Unlock()
	if !ok {
		return
	}
	s.goBackground("file watchers", func(ctx context.Context) {
		w := &s.watch
		w.mu.Lock()
		defer w.mu.Unlock()
		want := s.watchedPaths() // read now: the last sync to run wins
		if w.id != "" && slices.Equal(want, w.paths) {
			return
		}
		if w.id != "" {
			err := s.call(ctx, protocol.MethodClientUnregisterCapability, &protocol.UnregistrationParams{
				Unregisterations: []protocol.Unregistration{{ID: w.id, Method: protocol.MethodWorkspaceDidChangeWatchedFiles}},
			}, nil)
			if err != nil {
				s.log.eventf("unregister file watchers: %v", err)
			}
			w.id, w.paths = "", nil
		}
		if len(want) == 0 {
			return
		}
		opts, err := json.Marshal(watchOptions(s.rootDir(), want, relative))
		if err != nil {
			s.log.eventf("file watchers: %v", err)
			return
		}
		w.seq++
		id := fmt.Sprintf("r2c-watch-%d", w.seq)
		err = s.call(ctx, protocol.MethodClientRegisterCapability, &protocol.RegistrationParams{
			Registrations: []protocol.Registration{{ID: id, Method: protocol.MethodWorkspaceDidChangeWatchedFiles, RegisterOptions: protocol.LSPAny(opts)}},
		}, nil)
		if err != nil {
			s.log.eventf("register file watchers: %v", err)
			return
		}
		w.id, w.paths = id, want
	})
}

// watcher is a FileSystemWatcher on the wire. The glob is a string or a
// RelativePattern; built here rather than with protocol's sealed union so
// the base URI stays a plain URI.
type watcher struct {
	GlobPattern any `json:"globPattern"`
}

type relativePattern struct {
	BaseURI string `json:"baseUri"`
	Pattern string `json:"pattern"`
}

// watchOptions watches each file by its exact name. With RelativePattern
// support a file inside the workspace is a pattern on the root, which
// exists even when the file's own folder (.r2c/ before the first learn)
// does not yet, and a file outside it a pattern on its folder; otherwise
// an absolute-path glob.
func watchOptions(root string, paths []string, relative bool) map[string][]watcher {
	ws := make([]watcher, 0, len(paths))
	for _, p := range paths {
		if !relative {
			ws = append(ws, watcher{GlobPattern: globEscape(filepath.ToSlash(p))})
			continue
		}
		base, rel := filepath.Dir(p), filepath.Base(p)
		if root != "" {
			if r, ok := safepath.Within(root, p); ok {
				base, rel = root, filepath.FromSlash(r)
			}
		}
		ws = append(ws, watcher{GlobPattern: relativePattern{
			BaseURI: string(fileURI(base)),
			Pattern: globEscape(filepath.ToSlash(rel)),
		}})
	}
	return map[string][]watcher{"watchers": ws}
}

// globEscape makes a literal file name into a glob that matches only it:
// the specification has no escape character, so each special character
// becomes a one-character class.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', '{', '}':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// didChangeWatchedFiles reloads the configuration and the style profile
// when one of the watched files changed, and re-checks open documents.
func (s *Server) didChangeWatchedFiles(_ context.Context, params jsonrpc2.RawMessage) (any, error) {
	var p protocol.DidChangeWatchedFilesParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	watched := s.watchedPaths()
	for _, ch := range p.Changes {
		path := filepath.Clean(ch.URI.FsPath())
		if _, found := slices.BinarySearch(watched, path); found {
			s.log.eventf("%s changed on disk: reloading the configuration and the style profile", path)
			s.reloadConfig(nil)
			return nil, nil
		}
	}
	return nil, nil
}
