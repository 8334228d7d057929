package event

import (
	"encoding/json"
	"reflect"
	"testing"
)

var innerSeeds = []string{
	`{"Sentences":[{"BeginTime":0,"EndTime":1820,"Text":"您好，\"王\"先生","ChannelId":0,"EmotionValue":6.5,"X":{"y":[1]}}]}`,
	`{"TaskId":"abc","StatusText":"SUCCESS","RequestTime":1742883983000,"SolveTime":1742883990000,"StatusCode":21050000}`,
	`{"TaskId":null,"StatusCode":null,"Sentences":null}`, `{"Sentences":[]}`, `{}`, `null`, `[]`,
	`{"sentences":[]}`, `{"Sentences":[null]}`, `{"Sentences":[],"Sentences":[{"Text":"a"}]}`, `{"StatusCode":1.5}`,
	`{"ChannelId":2147483648}`, `{"Sentences":[{"ChannelId":2147483648}]}`, `{"ſentences":[]}`, `{"a":01}`,
	`[{"id":93186,"level":"0.93186.","name":"销售部"}]`, `[{"id":1,"ID":2}]`, `[null]`, `[{"id":"1"}]`, ` [ ] `, `[{"id":1}] x`,
}

// checkInnerFast checks that the fast decoders, when they accept text,
// decode it as encoding/json does.
func checkInnerFast(t *testing.T, text string) {
	t.Helper()
	if got, ok := decodeContentFast(text); ok {
		var want contentJSON
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("content fast path accepted %q, which encoding/json rejects: %v", text, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("content %q: fast %+v, encoding/json %+v", text, *got, want)
		}
	}
	if got, ok := decodeDepartmentsFast(text); ok {
		var want []departmentJSON
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("departments fast path accepted %q, which encoding/json rejects: %v", text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("departments %q: fast %+v, encoding/json %+v", text, got, want)
		}
	}
}

func TestInnerFastMatchesEncodingJSON(t *testing.T) {
	_, recs := sampleRecords(t)
	for _, r := range recs {
		for _, text := range []string{r.Content, r.DepartmentName} {
			if text == "" {
				continue
			}
			checkInnerFast(t, text)
		}
		if _, ok := decodeDepartmentsFast(r.DepartmentName); r.DepartmentName != "" && !ok {
			t.Errorf("the sample's departments left the fast path: %s", r.DepartmentName)
		}
	}
	for _, s := range innerSeeds {
		checkInnerFast(t, s)
	}
}

func FuzzInnerFast(f *testing.F) {
	_, recs := sampleRecords(f)
	for _, r := range recs {
		f.Add(r.Content)
		f.Add(r.DepartmentName)
	}
	for _, s := range innerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { checkInnerFast(t, text) })
}
