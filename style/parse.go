package style

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// MaxSourceSize is the largest file analysed. Bigger "Python" files are
// almost always generated data; refusing them keeps an editor responsive.
const MaxSourceSize = 8 << 20

// ErrBinary is returned for input that contains NUL bytes (CPython refuses
// it too: "source code string cannot contain null bytes").
var ErrBinary = errors.New("not Python source: the file contains NUL bytes (binary?)")

// ErrTooLarge is returned for input larger than MaxSourceSize.
var ErrTooLarge = fmt.Errorf("file larger than the %d MiB limit for Python sources", MaxSourceSize>>20)

// checkInput rejects what is not Python source at all. Invalid UTF-8 is not
// rejected here: it becomes an "encoding" diagnostic so the rest of the file
// is still analysed.
func checkInput(src []byte) error {
	if len(src) > MaxSourceSize {
		return fmt.Errorf("%w (%.1f MiB)", ErrTooLarge, float64(len(src))/(1<<20))
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return fmt.Errorf("%w at byte %d", ErrBinary, i)
	}
	return nil
}

// readSource reads a file for analysis, refusing huge ones and anything but
// regular files before reading.
func readSource(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// A FIFO would block the read, a device might never end.
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxSourceSize {
		return nil, fmt.Errorf("%s: %w (%.1f MiB)", path, ErrTooLarge, float64(fi.Size())/(1<<20))
	}
	return os.ReadFile(path)
}

// normalizeLineEnds returns src with each lone "\r" replaced by "\n".
// CPython and LSP editors end a line at "\n", "\r\n" and a lone "\r" (old
// Mac files); tree-sitter and the line tables know only "\n". The length and
// so every byte offset stay the same. Without a lone "\r", src itself is
// returned.
func normalizeLineEnds(src []byte) []byte {
	if !hasLoneCR(src) {
		return src
	}
	out := append([]byte(nil), src...)
	for i, c := range out {
		if c == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
			out[i] = '\n'
		}
	}
	return out
}

// hasLoneCR reports whether src has a "\r" not followed by "\n".
func hasLoneCR(src []byte) bool {
	for i := bytes.IndexByte(src, '\r'); i >= 0; {
		if i+1 == len(src) || src[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(src[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
