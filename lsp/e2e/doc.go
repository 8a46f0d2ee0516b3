// Package e2e holds the editor end-to-end tests: the VS Code extension in a
// real VS Code (code-server in headless Chromium, `make test-vscode`) and
// the Neovim plugin in headless Neovim, each driving the real r2c binary
// against the scripted model server (llm/llmtest) over 127.0.0.1.
package e2e
