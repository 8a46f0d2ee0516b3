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

func (in *PlanInput) partTexts() map[PromptPart]string {
	prev := ""
	if in.Previous != nil {
		b, _ := json.Marshal(in.Previous)
		prev = string(b)
	}
	return map[PromptPart]string{PartCurrentCode: prev, PartMoreFailures: in.Evidence}
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
	schema, err := schemaOf(PlanSchemaJSON())
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("planner: %w", err)
	}
	instruction, err := llm.JSONInstruction(schema)
	if err != nil {
		return nil, llm.Usage{}, fmt.Errorf("planner: %w", err)
	}
	// The evidence of the failing round outranks the plan that caused it.
	pr, err := p.fit(ctx, fitSpec{
		agent: NamePlanner, template: "planner", view: &in, schema: instruction,
		fix: "lower agents.planner.max_tokens",
		shrinkers: []shrinker{
			{PartCurrentCode, func() bool {
				if in.Previous == nil {
					return false
				}
				in.Previous = nil
				return true
			}},
			{PartMoreFailures, halve(&in.Evidence)},
		}})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	msgs := pr.msgs
	var total llm.Usage
	for attempt := 0; ; attempt++ {
		var plan Plan
		usage, err := p.chatJSON(ctx, NamePlanner, pr, schema, &plan)
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
		// The repair round is longer than the budgeted prompt; the client
		// re-budgets max_tokens if the server refuses it as too long.
		pr = &prompt{msgs: msgs, maxTokens: pr.maxTokens, followUp: true}
	}
}
