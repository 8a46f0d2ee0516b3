package style

import (
	"bytes"
	"slices"
)

// Re-parsing a window of statements instead of the file.
//
// tree-sitter-python's parse table has conflicts at statement boundaries, so
// the runtime marks nearly every block and module-level repetition it builds
// "fragile", and an incremental re-parse cannot reuse them: after a
// one-letter edit in a 2,000-line file it shifts every top-level definition
// again (about 0.8–1 ms, a sixth of a full parse), and the flattening then
// walks most of the tree again (0.4 ms). Its debug log shows it:
// "cant_reuse_node_is_fragile tree:module_repeat1" for each of them.
//
// In valid Python a statement's parse depends only on its own text and on
// where it starts: at the start of a line, inside blocks at known
// indentations, with no bracket or string open. So after an edit,
// spliceWindow re-parses only the statements the edit touched, with one
// unchanged statement on each side (the anchors), inside synthetic `if 1:`
// lines that open the same indentation levels as the real enclosing blocks,
// and replaces those statements' nodes in the flattening. The anchors prove the context: each
// must come out of the window's parse node for node as it was, or the
// window is refused and the document is re-parsed by tree-sitter as before.
// So is any window whose parse has an error or is not shaped as Python
// (pythonShaped: tree-sitter accepts some invalid Python without an error,
// and reads it depending on far-away text), whose synthetic structure does
// not come back as written, or that is too large to be worth it. Comments
// are never anchors, and a window that reaches its block's last statement
// takes as its right anchor the statement after the block (outerAnchor).
// TestWindowSpliceMatchesFullParse checks the spliced nodes against a full
// parse after thousands of random edits.

// maxWindowBytes is the largest window re-parsed when it is more than a
// quarter of the file: past that, tree-sitter's own incremental re-parse is
// as cheap.
const maxWindowBytes = 4 << 10

// window is the part of a document spliceWindow re-parses: children
// [first, last] of container, a module or a block at depth len(blocks).
type window struct {
	container   nodeIdx
	blocks      []nodeIdx // the enclosing blocks, outermost first, ending with container; none for the module
	kids        []nodeIdx // the container's children
	first, last int       // the re-parsed children, anchors included
	// leftAnchor and rightAnchor: kids[first] (kids[anchorFrom:last+1])
	// are unchanged statements that must parse as before.
	leftAnchor, rightAnchor bool
	anchorFrom              int
	// When the edit reaches the container's last statement, the right
	// anchor is the statement that follows at an outer level: outerGroup
	// (with what shares its line) in block outer, at depth outerLevel; or,
	// when nothing follows, the window reaches the end of the file. Then
	// the container and its ancestors up to endsWith (not included) end
	// where the window does.
	outer      nodeIdx // -1: none
	outerLevel int
	outerGroup []nodeIdx
	endsWith   nodeIdx
	start, end int // the re-parsed bytes of the old text: whole lines
	startRow   int
}

// spliceWindow brings the flattening to newSrc, the text after e, by
// re-parsing a window of statements around the edit (see above), and
// reports whether it could. When it cannot, nothing has changed.
func (d *Document) spliceWindow(e Edit, newSrc []byte) bool {
	old := d.flat.nodes
	if !d.flatFresh || !d.flatClean || len(old) == 0 || old[0].kind() != kModule {
		return false
	}
	w, ok := d.findWindow(e)
	if !ok {
		return false
	}
	deltaB := len(newSrc) - len(d.src)
	deltaRows := bytes.Count(e.NewText, newline) - bytes.Count(d.src[e.StartByte:e.OldEndByte], newline)

	// The window's text in the new source, after synthetic openers that
	// reproduce the indentation levels of the enclosing blocks.
	text := d.winText[:0]
	depth := len(w.blocks)
	for i := 0; i < depth; i++ {
		if i > 0 {
			text = append(text, d.indentOf(w.blocks[i-1])...)
		}
		text = append(text, "if 1:\n"...)
		if len(text) > maxWindowBytes {
			return false // hundreds of levels: the openers alone grow with the square of the depth
		}
	}
	prefix := len(text)
	text = append(text, newSrc[w.start:w.end+deltaB]...)
	d.winText = text
	t, err := d.parser.parse(text, nil)
	if err != nil {
		return false
	}
	clean := !t.hasError()
	var wn []node
	if clean {
		wn, err = t.flattenFast(d.winNodes[:0])
	}
	t.close()
	if !clean || err != nil {
		return false
	}
	d.winNodes = wn
	if !pythonShaped(wn, text) {
		return false
	}
	// The window's nodes to the document's: bytes and rows.
	shiftB := w.start - prefix
	shiftRows := w.startRow - depth

	// The synthetic openers must come back as one if_statement per level,
	// each the only statement of its module or block (but for the outer
	// anchor, which follows it), its block last.
	inner, outerParent, outerFirst := nodeIdx(0), nodeIdx(-1), nodeIdx(-1)
	for i := 0; i < depth; i++ {
		c := wn[inner].first_child
		if c < 0 || wn[c].kind() != kIf {
			return false
		}
		if w.outer >= 0 && i == w.outerLevel {
			outerParent, outerFirst = inner, wn[c].next_sibling
			group := d.winGroup[:0]
			for g := wn[c].next_sibling; g >= 0; g = wn[g].next_sibling {
				group = append(group, g)
			}
			d.winGroup = group
			if !sameSubtrees(wn, group, old, w.outerGroup, shiftB-deltaB, shiftRows-deltaRows) {
				return false
			}
		} else if wn[c].next_sibling >= 0 {
			return false
		}
		inner = -1
		for k := wn[c].first_child; k >= 0; k = wn[k].next_sibling {
			inner = k
		}
		if inner < 0 || wn[inner].kind() != kBlock {
			return false
		}
	}
	if int(inner)+1 >= len(wn) || wn[inner].first_child != inner+1 {
		return false // an empty window
	}
	wkids := d.winWKids[:0]
	for k := wn[inner].first_child; k >= 0; k = wn[k].next_sibling {
		wkids = append(wkids, k)
	}
	d.winWKids = wkids
	if w.leftAnchor && !sameSubtree(wn, wkids[0], w.kids[w.first], old, shiftB, shiftRows) {
		return false
	}
	if w.rightAnchor {
		n := w.last - w.anchorFrom + 1
		if len(wkids) < n+boolInt(w.leftAnchor) ||
			!sameSubtrees(wn, wkids[len(wkids)-n:], old, w.kids[w.anchorFrom:w.last+1], shiftB-deltaB, shiftRows-deltaRows) {
			return false
		}
	}

	// Splice: old[:r0] + the window's children + old[r1:], each part's
	// positions and indexes moved.
	r0 := w.kids[w.first]
	lastOld := w.kids[w.last]
	if w.outer >= 0 {
		lastOld = w.outerGroup[len(w.outerGroup)-1]
	}
	r1 := subtreeEnd(old, lastOld)
	added := nodeIdx(len(wn)) - (inner + 1)
	deltaN := added - (r1 - r0)
	after := old[w.kids[w.last]].next_sibling // the next child of the container, or -1
	if after >= 0 {
		after += deltaN
	}
	outerAfter := old[lastOld].next_sibling // the outer anchor's next sibling
	if outerAfter >= 0 {
		outerAfter += deltaN
	}
	var out []node
	if deltaN == 0 {
		out = old // in place: the nodes before the window keep their indexes
	} else {
		n := len(old) + int(deltaN)
		out = d.spare.nodes[:0]
		if cap(out) < n {
			out = make([]node, 0, n+n/8)
		}
		out = out[:n]
		copy(out, old[:r0])
		for i := range out[:r0] {
			nd := &out[i]
			if nd.first_child >= r1 {
				nd.first_child += deltaN
			}
			if nd.next_sibling >= r1 {
				nd.next_sibling += deltaN
			}
		}
		// The nodes after the window, moved.
		tail := out[int(r0+added):]
		copy(tail, old[r1:])
	}
	tail := out[int(r0+added):]
	if deltaB != 0 || deltaRows != 0 || deltaN != 0 {
		for i := range tail {
			nd := &tail[i]
			nd.move(deltaB, deltaRows)
			if deltaN != 0 {
				if nd.parent >= r1 {
					nd.parent += deltaN
				}
				if nd.first_child >= 0 {
					nd.first_child += deltaN
				}
				if nd.next_sibling >= 0 {
					nd.next_sibling += deltaN
				}
			}
		}
	}
	// The window's nodes, in place of the old children.
	mapIdx := func(k nodeIdx) nodeIdx { return r0 + (k - (inner + 1)) }
	for k := inner + 1; k < nodeIdx(len(wn)); k++ {
		nd := wn[k]
		nd.move(shiftB, shiftRows)
		// A top-level node of the window is followed by what followed the
		// nodes it replaces.
		lastNext := nodeIdx(-1)
		switch nd.parent {
		case inner:
			nd.parent, lastNext = w.container, after
		case outerParent:
			nd.parent, lastNext = w.outer, outerAfter
		default:
			nd.parent = mapIdx(nd.parent)
		}
		if nd.next_sibling >= 0 {
			nd.next_sibling = mapIdx(nd.next_sibling)
		} else {
			nd.next_sibling = lastNext
		}
		if nd.first_child >= 0 {
			nd.first_child = mapIdx(nd.first_child)
		}
		out[mapIdx(k)] = nd
	}
	if w.outer >= 0 {
		// The statement of the outer block that holds the container is
		// followed by the outer anchor, now at its new index.
		x := w.container
		for out[x].parent != w.outer {
			x = out[x].parent
		}
		out[x].next_sibling = mapIdx(outerFirst)
	}
	// The container and its ancestors end where they did, moved, or where
	// the window ends, up to endsWith; a window that reaches the end of
	// the file (or starts at its beginning) gives the module its end (start).
	toEOF := !w.rightAnchor && w.outer < 0
	withWindow := w.container != w.endsWith
	for a := w.container; a >= 0; a = out[a].parent {
		nd := &out[a]
		if a == w.endsWith {
			withWindow = false
		}
		var endOf *node // the window's node this one ends with
		switch {
		case withWindow:
			endOf = &wn[inner]
		case a == 0 && toEOF:
			endOf = &wn[0]
		}
		if endOf != nil {
			nd.end_byte = moved(endOf.end_byte, shiftB)
			nd.end_row = moved(endOf.end_row, shiftRows)
			nd.end_col = endOf.end_col
		} else {
			nd.end_byte = moved(nd.end_byte, deltaB)
			nd.end_row = moved(nd.end_row, deltaRows)
		}
		if a == 0 && w.start == 0 {
			nd.start_byte, nd.start_row, nd.start_col = wn[0].start_byte, wn[0].start_row, wn[0].start_col
		}
	}
	if deltaN != 0 {
		d.spare.nodes = old[:0]
	}
	d.flat.nodes = out
	d.flat.forgetTree()
	d.lastWindow, d.lastWindowDepth = w.end-w.start, depth
	return true
}

var newline = []byte{'\n'}

// moved is x moved by delta (bytes or rows).
func moved(x nodePos, delta int) nodePos { return nodePos(int(x) + delta) }

// move moves the node by bytes and rows; its columns stay.
func (n *node) move(bytes, rows int) {
	n.start_byte, n.end_byte = moved(n.start_byte, bytes), moved(n.end_byte, bytes)
	n.start_row, n.end_row = moved(n.start_row, rows), moved(n.end_row, rows)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// findWindow chooses the window for e: in the deepest block on the way to
// the edit that has an unchanged statement on each side of it, else in the
// module (where the file's start and end may stand in for the anchors).
func (d *Document) findWindow(e Edit) (window, bool) {
	nodes := d.flat.nodes
	blocks := d.winBlocks[:0]
	for n := nodeIdx(0); ; {
		next := nodeIdx(-1)
		for c := nodes[n].first_child; c >= 0; c = nodes[c].next_sibling {
			if int(nodes[c].start_byte) > e.StartByte {
				break
			}
			if e.OldEndByte <= int(nodes[c].end_byte) {
				next = c
				break
			}
		}
		if next < 0 {
			break
		}
		n = next
		if nodes[n].kind() == kBlock && int(nodes[n].start_byte) < e.StartByte && e.OldEndByte <= int(nodes[n].end_byte) {
			blocks = append(blocks, n)
		}
	}
	d.winBlocks = blocks
	for depth := len(blocks); depth >= 0; depth-- {
		container := nodeIdx(0)
		if depth > 0 {
			container = blocks[depth-1]
		}
		if w, ok := d.windowIn(container, blocks[:depth], e); ok {
			return w, true
		}
	}
	return window{}, false
}

// windowIn chooses the window for e among the children of container.
func (d *Document) windowIn(container nodeIdx, blocks []nodeIdx, e Edit) (window, bool) {
	nodes, src := d.flat.nodes, d.src
	isModule := container == 0
	kids := d.winKids[:0]
	for c := nodes[container].first_child; c >= 0; c = nodes[c].next_sibling {
		kids = append(kids, c)
	}
	d.winKids = kids
	if len(kids) == 0 {
		return window{}, false
	}
	lineStart := func(i int) int { return int(nodes[kids[i]].start_byte - nodes[kids[i]].start_col) }
	// An anchor is a statement that starts its line: not a comment (an
	// extra may sit anywhere, tree-sitter hoists one at column 0 out of
	// the blocks around it) nor the second statement of `a = 1; b = 2`.
	startsLine := func(i int) bool {
		c := &nodes[kids[i]]
		return c.flags&flatExtra == 0 && firstOnLine(src, c)
	}
	// The children whose lines the edit touches, ends included.
	a, b := -1, -1
	for i := range kids {
		segStart, segEnd := lineStart(i), int(nodes[container].end_byte)
		if i == 0 && isModule {
			segStart = 0
		}
		if i+1 < len(kids) {
			segEnd = lineStart(i + 1)
		} else if isModule {
			segEnd = len(src)
		}
		if segStart > e.OldEndByte {
			break
		}
		if e.StartByte <= segEnd {
			if a < 0 {
				a = i
			}
			b = i
		}
	}
	if a < 0 {
		return window{}, false
	}
	w := window{container: container, blocks: blocks, kids: kids, first: a - 1, last: b + 1, outer: -1, endsWith: container}
	for w.first >= 0 && !startsLine(w.first) {
		w.first--
	}
	for w.last < len(kids) && !startsLine(w.last) {
		w.last++
	}
	w.leftAnchor, w.rightAnchor = w.first >= 0, w.last < len(kids)
	if !isModule && !w.leftAnchor {
		return window{}, false
	}
	if w.leftAnchor {
		w.start, w.startRow = lineStart(w.first), int(nodes[kids[w.first]].start_row)
	} else {
		w.first = 0
	}
	if w.rightAnchor {
		// The window ends with the anchor's last line, and so takes in
		// what shares that line (a trailing comment).
		w.anchorFrom = w.last
		w.end = lineEnd(src, int(nodes[kids[w.last]].end_byte))
		for w.last+1 < len(kids) && int(nodes[kids[w.last+1]].start_byte) < w.end {
			w.last++
		}
	} else {
		w.last, w.end = len(kids)-1, len(src)
		if !isModule && !d.outerAnchor(&w) {
			return window{}, false
		}
	}
	if w.start > e.StartByte || e.OldEndByte > w.end {
		return window{}, false
	}
	if size := w.end - w.start; size > maxWindowBytes && size > len(src)/4 {
		return window{}, false
	}
	for _, blk := range blocks[:max(len(blocks)-1, 0)] {
		if d.indentOf(blk) == nil {
			return window{}, false
		}
	}
	return w, true
}

// outerAnchor finds the right anchor of a window that takes in the last
// statement of its container block: the statement that follows the
// container's owner, or the owner's owner, and so on, with the nodes on the
// way each the last child of its parent (an else clause after the block
// refuses the window). It sets w.outer, w.outerLevel, w.outerGroup and
// w.end, or, when nothing follows, leaves the window reaching the end of
// the file; either way the nodes up to that level end with the window.
func (d *Document) outerAnchor(w *window) bool {
	nodes, src := d.flat.nodes, d.src
	for x := w.container; ; {
		p := nodes[x].parent
		if p < 0 {
			return false
		}
		if k := nodes[p].kind(); k != kBlock && k != kModule {
			if nodes[x].next_sibling >= 0 {
				return false
			}
			x = p
			continue
		}
		s := nodes[x].next_sibling // x is a statement of p
		for s >= 0 && nodes[s].flags&flatExtra != 0 {
			s = nodes[s].next_sibling // comments are re-parsed with the anchor
		}
		if s < 0 && nodes[x].next_sibling >= 0 {
			return false // only comments follow
		}
		if s < 0 {
			if p == 0 {
				w.endsWith = 0 // nothing follows: the window reaches the end of the file
				return true
			}
			x = p
			continue
		}
		level := slices.Index(w.blocks, p) + 1
		if p != 0 && level == 0 {
			return false
		}
		if !firstOnLine(src, &nodes[s]) {
			return false
		}
		w.end = lineEnd(src, int(nodes[s].end_byte))
		group := d.winOuter[:0]
		for g := nodes[x].next_sibling; g >= 0 && int(nodes[g].start_byte) < w.end; g = nodes[g].next_sibling {
			group = append(group, g)
		}
		d.winOuter = group
		w.outer, w.outerLevel, w.outerGroup, w.endsWith = p, level, group, p
		return true
	}
}

// indentOf is the indentation of block's statements: what precedes its
// first child on that child's line, or nil when that is not whitespace.
func (d *Document) indentOf(block nodeIdx) []byte {
	c := &d.flat.nodes[d.flat.nodes[block].first_child]
	ws := d.src[c.start_byte-c.start_col : c.start_byte]
	if len(ws) == 0 || !isBlank(ws) {
		return nil
	}
	return ws
}

// pythonShaped reports whether a tree-sitter parse without errors has the
// shape of valid Python in the two ways the windows rely on: no block is
// empty, and the statements of each block (and the module) that start a
// line start at one column (0 for the module). tree-sitter-python accepts
// both departures without an ERROR node (`class C:` followed by a line at
// the same indentation is a class with an empty block; a line indented
// deeper without a colon before it continues the block), and which of its
// readings it takes there can depend on text far after it, so the premise
// that statements parse alike in any context fails. Such a text is treated
// as one with an error: tree-sitter re-parses it.
func pythonShaped(nodes []node, src []byte) bool {
	for i := range nodes {
		n := &nodes[i]
		if k := n.kind(); k != kBlock && k != kModule {
			continue
		}
		if n.first_child < 0 {
			if n.kind() == kBlock {
				return false
			}
			continue
		}
		col := -1
		if n.kind() == kModule {
			col = 0
		}
		for c := n.first_child; c >= 0; c = nodes[c].next_sibling {
			ch := &nodes[c]
			if ch.flags&flatExtra != 0 || !firstOnLine(src, ch) {
				continue
			}
			if col < 0 {
				col = int(ch.start_col)
			} else if int(ch.start_col) != col {
				return false
			}
		}
	}
	return true
}

// firstOnLine reports whether only spaces and tabs precede n on its line.
func firstOnLine(src []byte, n *node) bool {
	return isBlank(src[n.start_byte-n.start_col : n.start_byte])
}

// lineEnd is the offset just past the line end at or after off, or the end
// of src.
func lineEnd(src []byte, off int) int {
	if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(src)
}

// isBlank reports whether b is spaces and tabs only.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// subtreeEnd is the index just past node i's subtree in pre-order nodes.
func subtreeEnd(nodes []node, i nodeIdx) nodeIdx {
	for j := i; j >= 0; j = nodes[j].parent {
		if s := nodes[j].next_sibling; s >= 0 {
			return s
		}
	}
	return nodeIdx(len(nodes))
}

// sameSubtrees reports whether the subtrees of wn at ws are those of old at
// os, one for one (see sameSubtree).
func sameSubtrees(wn []node, ws []nodeIdx, old []node, os []nodeIdx, shiftB, shiftRows int) bool {
	if len(ws) != len(os) {
		return false
	}
	for i := range ws {
		if !sameSubtree(wn, ws[i], os[i], old, shiftB, shiftRows) {
			return false
		}
	}
	return true
}

// sameSubtree reports whether the subtree of wn[wi] is the subtree of
// old[oi], node for node, once moved by shiftB bytes and shiftRows rows.
func sameSubtree(wn []node, wi nodeIdx, oi nodeIdx, old []node, shiftB, shiftRows int) bool {
	we, oe := subtreeEnd(wn, wi), subtreeEnd(old, oi)
	if we-wi != oe-oi {
		return false
	}
	rel := func(x, base nodeIdx) nodeIdx {
		if x < 0 {
			return -1
		}
		return x - base
	}
	for k := nodeIdx(0); k < we-wi; k++ {
		a, b := &wn[wi+k], &old[oi+k]
		if int(a.start_byte)+shiftB != int(b.start_byte) || int(a.end_byte)+shiftB != int(b.end_byte) ||
			int(a.start_row)+shiftRows != int(b.start_row) || int(a.end_row)+shiftRows != int(b.end_row) ||
			a.start_col != b.start_col || a.end_col != b.end_col ||
			a.symbol != b.symbol || a.field != b.field || a.flags != b.flags ||
			rel(a.first_child, wi) != rel(b.first_child, oi) {
			return false
		}
		if k > 0 && (rel(a.parent, wi) != rel(b.parent, oi) || rel(a.next_sibling, wi) != rel(b.next_sibling, oi)) {
			return false
		}
	}
	return true
}
