package agents

// Name is one of the four agents. Run records, events, configuration
// sections (agents.<name>) and prompt reports all use these names.
type Name string

// The agents.
const (
	NameAnalyzer    Name = "analyzer"
	NamePlanner     Name = "planner"
	NameImplementer Name = "implementer"
	NameValidator   Name = "validator"
)

// Names lists the agents in pipeline order.
func Names() []Name { return []Name{NameAnalyzer, NamePlanner, NameImplementer, NameValidator} }

// Title is the name as a heading ("Implementer").
func (n Name) Title() string {
	if n == "" {
		return ""
	}
	return string(n[0]-'a'+'A') + string(n[1:])
}
