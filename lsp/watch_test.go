package lsp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/r2c-ai/r2c/lsp"
	"github.com/r2c-ai/r2c/lsp/lsptest"
	"github.com/r2c-ai/r2c/style"
)

// snakeProfile learns a real profile from styleWorkspace's snake_case code,
// as `r2c style learn` in a terminal would, and returns its JSON.
func snakeProfile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for rel, text := range styleWorkspace() {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := style.Learn(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "profile.json")
	if err := p.Save(out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// watchesFile reports whether the server's file-watcher registration
// mentions a file name.
func watchesFile(s *lsptest.State, name string) bool {
	for _, r := range s.Registrations {
		if r.Method == protocol.MethodWorkspaceDidChangeWatchedFiles && strings.Contains(string(r.Options), name) {
			return true
		}
	}
	return false
}

// A client with dynamic registration gets file watchers for r2c.toml and
// the style profile; rewriting either on disk (a profile learned in a
// terminal, an edited r2c.toml) changes the published diagnostics without a
// restart, and pointing style.profile elsewhere moves the watcher.
func TestProfileAndConfigChangedOnDiskAreReloaded(t *testing.T) {
	for _, relative := range []bool{true, false} {
		name := "relative-patterns"
		if !relative {
			name = "string-globs"
		}
		t.Run(name, func(t *testing.T) {
			profile := snakeProfile(t)
			e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
				NoRelativePatterns: !relative,
				Files: map[string]string{
					"r2c.toml": "[style]\nprofile = \".r2c/style.json\"\nmin_evidence = 2\n\n[server]\ndebounce = \"5ms\"\n",
				},
			})
			e.CreateBuffer("camel.py", "def computeValue(first, second):\n    return first + second\n")
			e.AwaitDiagnostics("camel.py", "no style findings without a profile", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 })
			e.Await("file watchers registered for r2c.toml and the profile", func(s *lsptest.State) bool {
				return watchesFile(s, "r2c.toml") && watchesFile(s, "style.json")
			})

			// The profile appears on disk: diagnostics against it.
			if !e.WriteFile(".r2c/style.json", profile) {
				t.Fatalf("no registered watcher matches the profile: %+v", e.Snapshot().Registrations)
			}
			e.AwaitDiagnostics("camel.py", "a naming finding from the new profile", hasCode("naming.function"))

			// r2c.toml now names another profile (missing): the finding
			// goes, and the watcher follows the setting.
			if !e.WriteFile("r2c.toml", "[style]\nprofile = \".r2c/team.json\"\nmin_evidence = 2\n\n[server]\ndebounce = \"5ms\"\n") {
				t.Fatal("no registered watcher matches r2c.toml")
			}
			e.AwaitDiagnostics("camel.py", "no naming finding once the profile setting moved", func(ds []protocol.Diagnostic) bool { return !hasCode("naming.function")(ds) })
			e.Await("the watcher moved to team.json", func(s *lsptest.State) bool {
				return watchesFile(s, "team.json") && !watchesFile(s, "style.json") && len(s.Registrations) == 1
			})
			if !e.WriteFile(".r2c/team.json", profile) {
				t.Fatal("no registered watcher matches the new profile path")
			}
			e.AwaitDiagnostics("camel.py", "the naming finding back from team.json", hasCode("naming.function"))

			// Deleting the profile takes its findings away.
			if !e.RemoveFile(".r2c/team.json") {
				t.Fatal("deleting the profile was not reported")
			}
			e.AwaitDiagnostics("camel.py", "no naming finding after the profile was deleted", func(ds []protocol.Diagnostic) bool { return !hasCode("naming.function")(ds) })

			// Files the server does not depend on are not watched.
			if e.WriteFile("notes.txt", "hello") {
				t.Error("a watcher matched an unrelated file")
			}
		})
	}
}

// Without dynamic registration nothing is registered, and
// didChangeConfiguration (the documented fallback) reloads the profile.
func TestWithoutWatchersDidChangeConfigurationReloads(t *testing.T) {
	profile := snakeProfile(t)
	e := lsptest.New(t, serve(lsp.Options{}), lsptest.Config{
		NoWatchFiles: true,
		Files: map[string]string{
			"r2c.toml": "[style]\nprofile = \".r2c/style.json\"\nmin_evidence = 2\n\n[server]\ndebounce = \"5ms\"\n",
		},
	})
	e.CreateBuffer("camel.py", "def computeValue(first, second):\n    return first + second\n")
	e.AwaitDiagnostics("camel.py", "no style findings without a profile", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 })
	if e.WriteFile(".r2c/style.json", profile) {
		t.Fatal("a watcher was registered with a client that cannot take one")
	}
	e.Notify(protocol.MethodWorkspaceDidChangeConfiguration, map[string]any{"settings": json.RawMessage(`{}`)})
	e.AwaitDiagnostics("camel.py", "a naming finding after didChangeConfiguration", hasCode("naming.function"))
	if n := e.Snapshot().Registered; n != 0 {
		t.Fatalf("%d registerCapability requests sent to a client without dynamic registration", n)
	}
}
