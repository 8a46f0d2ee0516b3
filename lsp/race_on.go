//go:build race

package lsp

// raceEnabled: the race detector's shadow memory rules out RLIMIT_DATA.
const raceEnabled = true
