// Package atomicfile replaces files so that a reader, or the next start
// after a crash, sees either the old content or the new, never a part.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// TempPrefix begins the name of every temporary file Write creates, so the
// owner of a folder can recognise and sweep what a crash left behind.
const TempPrefix = ".tmp-"

// Write replaces path with data: a temporary file in the same folder, fsync,
// rename over path, then fsync of the folder so the rename itself survives
// a power cut where the file system allows it. The file gets mode perm.
// beforeRename, when not nil, runs once the temporary file is complete and
// before the rename (crash tests stop there); its error aborts the write.
// On any error path is untouched and the temporary file is removed.
func Write(path string, data []byte, perm fs.FileMode, beforeRename func() error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		// Not every file system can sync a folder; the rename is done either way.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
