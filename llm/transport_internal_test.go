package llm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMergeJSON(t *testing.T) {
	extra := map[string]any{"temperature": 0, "response_format": map[string]any{"type": "json_object", "value": map[string]any{"type": "object"}}}
	for _, body := range []string{`{"model":"tgi","messages":[]}`, `{}`, ` { } `, `{"model":"tgi","temperature":0.7}`} {
		got, err := mergeJSON([]byte(body), extra)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		// Oracle: encoding/json decodes of the body and the extra fields,
		// merged as maps.
		var want, have map[string]any
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		for k, v := range extra {
			b, _ := json.Marshal(v)
			var dv any
			json.Unmarshal(b, &dv)
			want[k] = dv
		}
		if err := json.Unmarshal(got, &have); err != nil {
			t.Fatalf("%s: invalid JSON %s", body, got)
		}
		if !reflect.DeepEqual(want, have) {
			t.Errorf("%s:\n got %s\nwant %v", body, got, want)
		}
		// encoding/json keeps the last of duplicate keys; TGI's serde
		// rejects them, so each key must appear once.
		if n := strings.Count(string(got), `"temperature":`); n != 1 {
			t.Errorf("%s: temperature appears %d times in %s", body, n, got)
		}
	}
	if _, err := mergeJSON([]byte(`[1]`), extra); err == nil {
		t.Error("array body accepted")
	}
}
