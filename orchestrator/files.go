package orchestrator

// File is one generated file, its path relative to the output folder.
// Run never writes it there: core.WriteFiles (or an editor's workspace
// edit) does.
type File struct {
	Path    string `json:"path"`
	Content []byte `json:"-"`
}
