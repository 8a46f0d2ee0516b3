package style

import (
	"bytes"
)

// Tree-sitter's error recovery can swallow the rest of a file into one
// ERROR node: an unclosed bracket turns every later line into one long
// expression. An editor user typing `f(` would then lose every diagnostic
// below the cursor. analyzeRecovering restarts the analysis at the first
// top-level definition inside such an error and merges the results.

// maxResyncs bounds the restarts for a file with many runaway errors.
const maxResyncs = 20

// resyncPrefixes start a top-level statement that a runaway error may have
// swallowed; a line beginning with one of them at column 0 is a safe place
// to parse again.
var resyncPrefixes = [][]byte{[]byte("def "), []byte("class "), []byte("async def "), []byte("@")}

// perFileDims are computed once per file; a restarted tail must not add
// them again.
var perFileDims = map[string]bool{"comments.density": true, "scripts.main_guard": true, "imports.grouping": true}

// analyzeRecovering analyses a parsed file and, after a runaway syntax
// error, the text after it. tails, when not nil, keeps the analyses of the
// restarted texts between calls: while the user types inside the runaway
// error, the text after the restart point is the same as at the last
// keystroke, and parsing it again from scratch was most of a keystroke's
// cost.
func analyzeRecovering(nodes []node, src []byte, tails *tailCache, obs []observation) *analysis {
	a := analyzeInto(nodes, src, obs)
	var used []tailEntry
	for k := 0; k < maxResyncs; k++ {
		line, off, ok := resyncPoint(a, src)
		if !ok {
			break
		}
		tail, err := tails.analyze(k, src[off:])
		if err != nil {
			break
		}
		used = append(used, tailEntry{src[off:], tail})
		a.mergeTail(tail, line, off)
	}
	if tails != nil {
		tails.entries = used
	}
	return a
}

// tailCache holds the analyses of the texts after the restart points of the
// last analysis. An analysis depends only on its text, and mergeTail reads
// it without changing it, so one whose text is unchanged is used again. A
// changed text is parsed incrementally: each restart level keeps an open
// Document, brought to the new text by one edit (what lies between the
// common prefix and suffix of the two texts), which is usually the
// keystroke itself or a shift of where the restart begins.
type tailCache struct {
	entries []tailEntry
	docs    [maxTailDocs]*Document
}

// maxTailDocs bounds the restart levels parsed incrementally (each holds a
// parser and a tree); deeper ones are parsed from scratch.
const maxTailDocs = 4

// analyze returns the analysis of text, the restart at level k.
func (c *tailCache) analyze(k int, text []byte) (*analysis, error) {
	if a := c.lookup(text); a != nil {
		return a, nil
	}
	if c == nil || k >= maxTailDocs {
		return analyzeTail(text)
	}
	d := c.docs[k]
	if d != nil {
		if err := d.replaceText(text); err != nil {
			d.Close()
			d, c.docs[k] = nil, nil
		}
	}
	if d == nil {
		var err error
		if d, err = NewDocument(text); err != nil {
			return nil, err
		}
		c.docs[k] = d
	}
	a := analyze(d.nodes(), d.parsed)
	a.nodes = nil // reused by the next flattening
	return a, nil
}

// close releases the restart levels' documents.
func (c *tailCache) close() {
	for k, d := range c.docs {
		if d != nil {
			d.Close()
			c.docs[k] = nil
		}
	}
	c.entries = nil
}

type tailEntry struct {
	text []byte // never modified: the documents' texts are replaced, not edited
	a    *analysis
}

// lookup returns the cached analysis of text, or nil.
func (c *tailCache) lookup(text []byte) *analysis {
	if c == nil {
		return nil
	}
	for _, e := range c.entries {
		if bytes.Equal(e.text, text) {
			return e.a
		}
	}
	return nil
}

// resyncPoint finds, inside the last multi-line error that runs past its
// first line, the first line after the one where the text breaks that starts
// a top-level definition.
func resyncPoint(a *analysis, src []byte) (line, off int, ok bool) {
	for _, span := range a.errorSpans {
		if span.rng.End.Line <= span.rng.Start.Line || span.rng.Start.Line < a.resyncedFrom {
			continue
		}
		for l := max(span.rng.Start.Line, span.brokenLine) + 1; l <= span.rng.End.Line && l < len(a.lineStarts); l++ {
			start := a.lineStarts[l]
			for _, p := range resyncPrefixes {
				if bytes.HasPrefix(src[start:], p) {
					return l, start, true
				}
			}
		}
	}
	return 0, 0, false
}

// analyzeTail parses and analyses the text from a restart point.
func analyzeTail(src []byte) (*analysis, error) {
	var out *analysis
	err := withParsed(src, func(nodes []node) {
		out = analyze(nodes, src)
		out.nodes = nil
	})
	return out, err
}

// mergeTail replaces everything a found at or after line with tail's
// findings, shifted to their place in the whole file.
func (a *analysis) mergeTail(tail *analysis, line, off int) {
	shift := func(r Range) Range {
		r.Start.Line += line
		r.End.Line += line
		return r
	}
	var obs []observation
	for _, o := range a.obs {
		if o.rng.Start.Line < line {
			obs = append(obs, o)
		}
	}
	for _, o := range tail.obs {
		if perFileDims[o.dim] {
			continue
		}
		o.rng = shift(o.rng)
		// The tail's nodes are gone: no rename fix, but the message still
		// names the identifier.
		o.nameNode = -1
		if o.fix != nil {
			edits := make([]TextEdit, len(o.fix.Edits))
			for i, e := range o.fix.Edits {
				edits[i] = TextEdit{Range: shift(e.Range), NewText: e.NewText}
			}
			o.fix = &Fix{Title: o.fix.Title, Edits: edits}
		}
		obs = append(obs, o)
	}
	a.obs = obs

	var diags []Diagnostic
	for _, d := range a.diags {
		switch {
		case d.Range.Start.Line >= line:
			continue
		case d.Range.End.Line >= line:
			// The runaway error now ends where the restart begins.
			d.Range.End = Position{Line: line - 1, Column: len(bytes.TrimRight(lineText(a, line-1), "\r"))}
		}
		diags = append(diags, d)
	}
	for _, d := range tail.diags {
		d.Range = shift(d.Range)
		diags = append(diags, d)
	}
	a.diags = diags

	var syms []Symbol
	for _, s := range a.symbols {
		if s.StartLine < line {
			s.EndLine = min(s.EndLine, line-1)
			s.EndByte = min(s.EndByte, off)
			syms = append(syms, s)
		}
	}
	for _, s := range tail.symbols {
		s.StartLine += line
		s.EndLine += line
		s.StartByte += off
		s.EndByte += off
		syms = append(syms, s)
	}
	a.symbols = syms

	var spans []errorSpan
	for _, s := range a.errorSpans {
		if s.rng.Start.Line < line {
			spans = append(spans, s)
		}
	}
	for _, s := range tail.errorSpans {
		s.rng = shift(s.rng)
		s.brokenLine += line
		spans = append(spans, s)
	}
	a.errorSpans = spans
	a.resyncedFrom = line

	st := &a.stats
	t := tail.stats
	st.Functions += t.Functions
	st.Classes += t.Classes
	st.Comprehensions += t.Comprehensions
	st.Lambdas += t.Lambdas
	st.FStrings += t.FStrings
	st.Docstrings += t.Docstrings
	st.Args += t.Args
	st.AnnotatedArgs += t.AnnotatedArgs
	st.AnnotatedReturns += t.AnnotatedReturns
	st.Imports += t.Imports
	st.TryBlocks += t.TryBlocks
	st.BareExcepts += t.BareExcepts
	st.Loops += t.Loops
	st.Withs += t.Withs
	st.Decorators += t.Decorators
	st.FunctionNames = append(st.FunctionNames, t.FunctionNames...)
	st.ClassNames = append(st.ClassNames, t.ClassNames...)
	st.SyntaxErrors += t.SyntaxErrors
}

func lineText(a *analysis, line int) []byte {
	if line < 0 || line >= len(a.lineStarts) {
		return nil
	}
	start := a.lineStarts[line]
	end := len(a.src)
	if line+1 < len(a.lineStarts) {
		end = a.lineStarts[line+1] - 1
	}
	return a.src[start:end]
}
