package vendortest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// The table says what the sample holds: read with encoding/json, record by
// record, inner JSON included.
func TestSampleRecordsMatchTheSample(t *testing.T) {
	var env struct {
		Code    int
		Message string
		Data    struct {
			TotalCount, TotalPage, PageNo, PageSize int
			Message                                 string
			Result                                  []json.RawMessage
		}
	}
	if err := json.Unmarshal(SampleResponse, &env); err != nil {
		t.Fatal(err)
	}
	d := env.Data
	if env.Code != SamplePage.Code || env.Message != SamplePage.Message || d.TotalCount != SamplePage.TotalCount ||
		d.TotalPage != SamplePage.TotalPage || d.PageNo != SamplePage.PageNo || d.PageSize != SamplePage.PageSize ||
		d.Message != SamplePage.DataMessage || len(d.Result) != len(SampleRecords) {
		t.Fatalf("envelope %+v, %d records; table %+v, %d", env, len(d.Result), SamplePage, len(SampleRecords))
	}
	cst := time.FixedZone("UTC+8", 8*3600)
	for i, raw := range d.Result {
		want := SampleRecords[i]
		var r struct {
			ID                      int64
			Status                  int32
			StatusStr               string
			GmtCreateTime, MsgTime  string
			PreCost, Cost, SalesID  int64
			CallType                string
			Message                 *string
			Content, DepartmentName string
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var content struct {
			Sentences  []json.RawMessage
			StatusCode int64
		}
		var depts []json.RawMessage
		if err := json.Unmarshal([]byte(r.Content), &content); err != nil {
			t.Fatalf("record %d content: %v", i, err)
		}
		if err := json.Unmarshal([]byte(r.DepartmentName), &depts); err != nil {
			t.Fatalf("record %d departmentName: %v", i, err)
		}
		gmt, _ := time.ParseInLocation(time.DateTime, r.GmtCreateTime, cst)
		msg, _ := time.ParseInLocation(time.DateTime, r.MsgTime, cst)
		got := SampleRecord{
			ID: r.ID, Status: r.Status, StatusStr: r.StatusStr, GmtCreateTime: r.GmtCreateTime,
			GmtCreate: gmt.UTC(), MsgTime: msg.UTC(), PreCost: r.PreCost, Cost: r.Cost, SalesID: r.SalesID,
			CallType: r.CallType, HasMessage: r.Message != nil, Sentences: len(content.Sentences),
			Departments: len(depts), StatusCode: content.StatusCode,
		}
		if got != want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
		if keys := keysOf(t, raw); !slices.Equal(keys, SampleKeys) {
			t.Errorf("record %d keys %v", i, keys)
		}
	}
}

func TestTimeVectorsAreUTCPlus8(t *testing.T) {
	for _, v := range TimeVectors {
		if got := v.UTC.Add(8 * time.Hour).Format(time.DateTime); got != v.Text || v.UTC.Location() != time.UTC {
			t.Errorf("%s: UTC %s plus 8h is %s", v.Text, v.UTC, got)
		}
	}
}

func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
