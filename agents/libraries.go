package agents

import (
	"context"
	"fmt"
	"strings"

	"github.com/r2c-ai/r2c/sandbox"
)

// importNames maps PyPI distributions whose import name differs.
var importNames = map[string]string{
	"scikit-learn":   "sklearn",
	"pillow":         "PIL",
	"opencv-python":  "cv2",
	"pyyaml":         "yaml",
	"beautifulsoup4": "bs4",
	"pytorch":        "torch",
}

// probe prints the names it was given that cannot be imported, one per line.
const probe = `import importlib.util, sys
for name in sys.argv[1:]:
    if importlib.util.find_spec(name) is None:
        print(name)
`

// MissingLibraries reports which of the plan's libraries (PyPI names) the
// interpreter that runs the tests cannot import, asked in the sandbox the
// tests will run in. Code using them cannot pass its tests here, so the
// orchestrator says so before spending rounds on it. The standard library
// and unknown names are checked the same way.
func (v *Validator) MissingLibraries(ctx context.Context, python string, libraries []string, minLevel sandbox.Level) ([]string, error) {
	if len(libraries) == 0 {
		return nil, nil
	}
	py, err := sandbox.FindPython(python)
	if py == nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	argv := []string{py.Path, "-c", probe}
	byModule := map[string]string{}
	for _, lib := range libraries {
		mod := strings.TrimSpace(lib)
		if n, ok := importNames[strings.ToLower(mod)]; ok {
			mod = n
		}
		mod = strings.ReplaceAll(mod, "-", "_")
		if mod == "" {
			continue
		}
		byModule[mod] = lib
		argv = append(argv, mod)
	}
	res, err := sandbox.Run(ctx, sandbox.Spec{Argv: argv, ReadOnly: py.Dirs, MinLevel: minLevel})
	if err != nil {
		return nil, fmt.Errorf("validator: checking libraries: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("validator: checking libraries with %s: %s", py.Path, res.Summary())
	}
	var missing []string
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if lib, ok := byModule[strings.TrimSpace(line)]; ok {
			missing = append(missing, lib)
		}
	}
	return missing, nil
}
