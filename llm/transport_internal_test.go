package llm

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMergeFields(t *testing.T) {
	fields := bodyFields{temperature: 0, maxTokens: 512, extra: map[string]any{
		"response_format": map[string]any{"type": "json_object", "value": map[string]any{"type": "object"}},
	}}
	enc, err := fields.encode()
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{`{"model":"tgi","messages":[]}`, `{}`, ` { } `, `{"model":"tgi","temperature":0.7}`, `{"max_tokens":9,"model":"m"}` + "\n"}
	for _, body := range bodies {
		for _, size := range []int64{int64(len(body)), -1} {
			got, err := enc.merge(strings.NewReader(body), size)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			// Oracle: encoding/json decodes of the body and the fields,
			// merged as maps.
			var want, have map[string]any
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatal(err)
			}
			want["temperature"] = 0.0
			want["max_tokens"] = 512.0
			b, _ := json.Marshal(fields.extra)
			json.Unmarshal(b, &want)
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatalf("%s: invalid JSON %s", body, got)
			}
			if !reflect.DeepEqual(want, have) {
				t.Errorf("%s:\n got %s\nwant %v", body, got, want)
			}
			// encoding/json keeps the last of duplicate keys; TGI's serde
			// rejects them, so each key must appear once.
			for _, key := range []string{`"temperature":`, `"max_tokens":`} {
				if n := bytes.Count(got, []byte(key)); n != 1 {
					t.Errorf("%s: %s appears %d times in %s", body, key, n, got)
				}
			}
		}
	}
	if _, err := enc.merge(strings.NewReader(`[1]`), 3); err == nil {
		t.Error("array body accepted")
	}
	if _, err := enc.merge(strings.NewReader(`{"a":1}`), 20); err == nil {
		t.Error("a body shorter than its Content-Length accepted")
	}
	for _, temp := range []float32{0.7, 1e-5, 2} {
		enc, err := bodyFields{temperature: temp}.encode()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := enc.merge(strings.NewReader(`{}`), 2)
		var have struct{ Temperature float32 }
		if err := json.Unmarshal(got, &have); err != nil || have.Temperature != temp {
			t.Errorf("temperature %v sent as %s (%v)", temp, got, err)
		}
	}
}
