package agents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/r2c-ai/r2c/llm"
)

// PlanInput is what the Planner designs from.
type PlanInput struct {
	Spec *Spec
	// Previous and Evidence are set when the correction loop asks for a
	// revised plan: the plan that kept failing and why.
	Previous *Plan
	Evidence string
}

// Planner turns a Spec into a Plan: files, fixed interfaces, libraries and
// a task DAG.
type Planner struct{ Settings }

// Plan asks the model for a plan and checks it (schema, then the DAG and
// paths with Plan.Validate). A plan that fails the structural check is sent
// back once with the problems; a second failure is an error.
func (p *Planner) Plan(ctx context.Context, in PlanInput) (*Plan, llm.Usage, error) {
	if in.Spec == nil {
		return nil, llm.Usage{}, fmt.Errorf("planner: no spec")
	}
	msgs, err := p.fit("planner", "planner", &in, "start the server with a longer context or lower model.max_tokens",
		halve(&in.Evidence),
		func() bool {
			if in.Previous == nil {
				return false
			}
			in.Previous = nil
			return true
		})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	schema, err := schemaOf(PlanSchemaJSON())
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("planner: %w", err)
	}
	var total llm.Usage
	for attempt := 0; ; attempt++ {
		var plan Plan
		usage, err := p.chatJSON(ctx, "planner", msgs, schema, &plan)
		total = total.Add(usage)
		if err != nil {
			return nil, total, fmt.Errorf("planner: %w", err)
		}
		verr := plan.Validate()
		if verr == nil {
			return &plan, total, nil
		}
		if attempt == 1 {
			return nil, total, fmt.Errorf("planner: the model's plan is still invalid after one repair: %w", verr)
		}
		answer, _ := json.Marshal(plan)
		msgs = append(msgs,
			llm.Message{Role: llm.RoleAssistant, Content: string(answer)},
			llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf("That plan cannot be used: %v\nAnswer with the corrected plan as one JSON object.", verr)})
	}
}
