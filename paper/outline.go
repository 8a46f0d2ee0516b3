package paper

// OutlineSchemaVersion is the version of Outline's JSON shape.
const OutlineSchemaVersion = 1

// Outline is a paper's title and section tree without the text: the one
// answer of `r2c paper sections --json`, the language server's
// r2c.sections (the editors' section pickers) and the HTTP API's
// POST /v1/papers.
type Outline struct {
	SchemaVersion int    `json:"schema_version"`
	Title         string `json:"title"`
	Abstract      string `json:"abstract,omitempty"`
	Source        string `json:"source"`
	Format        string `json:"format"`
	Pages         int    `json:"pages"`
	// References counts the bibliography entries.
	References int `json:"references"`
	// Partial is set when part of the input could not be read; Notes say
	// which part.
	Partial  bool             `json:"partial,omitempty"`
	Sections []OutlineSection `json:"sections"`
	Notes    []string         `json:"notes"`
}

// OutlineSection is one section of an Outline.
type OutlineSection struct {
	Number string `json:"number"`
	Title  string `json:"title"`
	// Heading is how the section is asked for (r2c implement --section,
	// r2c.implement): "3.2 Scaled Dot-Product Attention".
	Heading    string           `json:"heading"`
	Level      int              `json:"level"`
	Page       int              `json:"page"`
	Equations  int              `json:"equations"`
	Tables     int              `json:"tables"`
	Algorithms int              `json:"algorithms"`
	Children   []OutlineSection `json:"children"`
}

// Outline returns p's outline. Empty lists are empty, never null, so
// clients can walk them without checks.
func (p *Paper) Outline() *Outline {
	var conv func([]*Section) []OutlineSection
	conv = func(ss []*Section) []OutlineSection {
		out := []OutlineSection{}
		for _, s := range ss {
			out = append(out, OutlineSection{
				Number: s.Number, Title: s.Title, Heading: s.Heading(), Level: s.Level, Page: s.Page,
				Equations: len(s.Equations), Tables: len(s.Tables), Algorithms: len(s.Algorithms),
				Children: conv(s.Children),
			})
		}
		return out
	}
	notes := append([]string{}, p.Notes...)
	return &Outline{SchemaVersion: OutlineSchemaVersion, Title: p.Title, Abstract: p.Abstract, Source: p.Source,
		Format: p.Format, Pages: p.Pages, References: len(p.References), Partial: p.Partial,
		Sections: conv(p.Sections), Notes: notes}
}
