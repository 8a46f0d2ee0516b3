package paper

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOutlineKeepsTheTreeAndNeverNull(t *testing.T) {
	src := "# A Paper\n\n## 1 Intro\n\nText.\n\n### 1.1 Setup\n\n$$x = 1$$\n\n## 2 Method\n\nMore.\n"
	p, err := Parse("p.md", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := p.Outline()
	if len(o.Sections) != 2 || o.Sections[0].Number != "1" || len(o.Sections[0].Children) != 1 ||
		o.Sections[0].Children[0].Heading != "1.1 Setup" || o.Sections[0].Children[0].Equations != 1 {
		t.Fatalf("outline %+v", o.Sections)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "null") || !strings.Contains(string(b), `"schema_version":1`) {
		t.Fatalf("json %s", b)
	}
}
