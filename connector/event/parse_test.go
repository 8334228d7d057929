package event

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
)

// sampleRecords returns the records of the vendor's sample response, raw
// and decoded.
func sampleRecords(t testing.TB) ([]json.RawMessage, []source.Record) {
	t.Helper()
	body, err := os.ReadFile("testdata/getCallList.sample-response.json")
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	recs := make([]source.Record, len(resp.Data.Result))
	for i, raw := range resp.Data.Result {
		if err := json.Unmarshal(raw, &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs) != 8 {
		t.Fatalf("sample holds %d records, want 8", len(recs))
	}
	return resp.Data.Result, recs
}

func sampleRecord(t testing.TB, id int64) source.Record {
	t.Helper()
	_, recs := sampleRecords(t)
	for _, r := range recs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no record %d in the sample", id)
	return source.Record{}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestFromRecordSample(t *testing.T) {
	_, recs := sampleRecords(t)
	for _, r := range recs {
		c, err := FromRecord(&r)
		if err != nil {
			t.Errorf("record %d: %v", r.ID, err)
			continue
		}
		if c.ID != r.ID || c.Status != r.Status || c.Extra != nil || len(c.Departments) == 0 {
			t.Errorf("record %d: got id %d status %d extra %v departments %v", r.ID, c.ID, c.Status, c.Extra, c.Departments)
		}
		switch content := c.Content.(type) {
		case *Transcript:
			if r.Status != 2 || c.Message != nil || len(content.Sentences) == 0 {
				t.Errorf("record %d: status %d with transcript %+v, message %+v", r.ID, r.Status, content, c.Message)
			}
		case *TaskStatus:
			if r.Status != 0 || !reflect.DeepEqual(content, c.Message) {
				t.Errorf("record %d: status %d with task status %+v, message %+v", r.ID, r.Status, content, c.Message)
			}
		default:
			t.Errorf("record %d: content %T", r.ID, content)
		}
	}
}

// TestFromRecordExact checks every field of one converted and one failed
// record of the sample.
func TestFromRecordExact(t *testing.T) {
	tests := []struct {
		id   int64
		want *Call
	}{
		{660475461327008, &Call{
			ID: 660475461327008, TaskID: "d6ad8b6ab4374f8bb22c83f1e8d5bcf1", CorpID: "wwd074f3968f56dcb0",
			Type: "call", MsgID: "9d23756da450c5fc_1742538188519_5", PreCost: 21000, Cost: 21000,
			Status: 2, StatusStr: "转换成功", Method: "web", SalesID: 445499900074176, SalesName: "admin",
			GmtCreateTime: utc("2025-03-21T06:43:03Z"), MsgTime: utc("2025-03-21T06:22:45Z"),
			Departments: []Department{{ID: 106145, Level: "0.93186.106142.106143.106144.106145.",
				Path: []int64{0, 93186, 106142, 106143, 106144, 106145}, Name: "zr子子子部门"}},
			SendName: "白玉米", ReceiveName: "", CallType: "电销手机",
			URL: "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/resource/7e63fc9918bf47dc8650d246341b390b.mp3",
			Content: &Transcript{Sentences: []Sentence{
				{BeginTimeMs: 0, EndTimeMs: 5599, Text: "您好,欢迎您使用北京联通自助查费直通车。", ChannelID: 1},
				{BeginTimeMs: 7840, EndTimeMs: 13923, Text: "您本月实时话费零元,剩余话费付两千八百六十二点四九元。", ChannelID: 1},
				{BeginTimeMs: 13923, EndTimeMs: 20980, Text: "于是虞亮话费构成消费及套餐详情已发送您的手机,请您查收,继续查。", ChannelID: 1},
			}},
		}},
		{661181201146016, &Call{
			ID: 661181201146016, TaskID: "315bb32e8d9846f6b4961432fd064a1a", CorpID: "wwd074f3968f56dcb0",
			Type: "call", MsgID: "4502496428933959426_1742553261641_external", PreCost: 3260, Cost: 0,
			Status: 0, StatusStr: "转换失败", Method: "web", SalesID: 445499900074176, SalesName: "admin",
			GmtCreateTime: utc("2025-03-25T06:26:23Z"), MsgTime: utc("2025-03-21T10:34:16Z"),
			Departments: []Department{{ID: 105610, Level: "0.93186.105610.", Path: []int64{0, 93186, 105610}, Name: "白立宏测试1"}},
			SendName:    "朱佳玉", ReceiveName: "赵润-向量智享科技", CallType: "微信语音",
			URL:     "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/WechatSmallFile/b9d6980b7b0c4189a6978eff7ff496aa.mp3",
			Message: failedStatus(),
			Content: failedStatus(),
		}},
	}
	for _, tc := range tests {
		r := sampleRecord(t, tc.id)
		got, err := FromRecord(&r)
		if err != nil {
			t.Fatalf("record %d: %v", tc.id, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("record %d:\n got %s\nwant %s", tc.id, jsonOf(t, got), jsonOf(t, tc.want))
		}
	}
}

func failedStatus() *TaskStatus {
	return &TaskStatus{TaskID: "315bb32e8d9846f6b4961432fd064a1a", StatusText: "SUCCESS_WITH_NO_VALID_FRAGMENT",
		RequestTime: utc("2025-03-25T06:26:24.490Z"), SolveTime: utc("2025-03-25T06:26:35.502Z"), StatusCode: 21050003}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFromRecordVariants(t *testing.T) {
	inProgress := func(r *source.Record) { r.Content, r.Message, r.Status = "", nil, 1 }
	tests := []struct {
		name  string
		edit  func(r *source.Record)
		check func(c *Call) bool
	}{
		{"empty content is null", inProgress, func(c *Call) bool { return c.Content == nil && c.Message == nil }},
		{"empty message is null", func(r *source.Record) { s := ""; r.Message = &s },
			func(c *Call) bool { return c.Message == nil }},
		{"extra transcript fields are ignored", func(r *source.Record) {
			r.Content = `{"RequestId":"x","Sentences":[{"BeginTime":1,"EndTime":2,"Text":"a","ChannelId":0,"SpeechRate":3}],"Duration":9}`
		}, func(c *Call) bool {
			return reflect.DeepEqual(c.Content, &Transcript{Sentences: []Sentence{{BeginTimeMs: 1, EndTimeMs: 2, Text: "a"}}})
		}},
		{"empty sentences", func(r *source.Record) { r.Content = `{"Sentences":[]}` },
			func(c *Call) bool { return reflect.DeepEqual(c.Content, &Transcript{}) }},
		{"empty departments", func(r *source.Record) { r.DepartmentName = "[]" },
			func(c *Call) bool { return c.Departments == nil }},
		{"no departmentName", func(r *source.Record) { r.DepartmentName = "" },
			func(c *Call) bool { return c.Departments == nil }},
		{"empty level", func(r *source.Record) { r.DepartmentName = `[{"id":1,"level":"","name":"n"}]` },
			func(c *Call) bool { return reflect.DeepEqual(c.Departments, []Department{{ID: 1, Name: "n"}}) }},
		{"non-null extras are kept raw", func(r *source.Record) {
			r.SendIsWx, r.ChatID, r.UserID = json.RawMessage(`true`), json.RawMessage(`"c1"`), json.RawMessage(`null`)
		}, func(c *Call) bool {
			return reflect.DeepEqual(c.Extra, map[string]string{"sendIsWx": "true", "chatId": `"c1"`})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRecord(t, 660475461327008)
			tc.edit(&r)
			c, err := FromRecord(&r)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("got %s", jsonOf(t, c))
			}
		})
	}
}

func TestFromRecordErrors(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name   string
		edit   func(r *source.Record)
		reason string
	}{
		{"content not JSON", func(r *source.Record) { r.Content = `{"Sentences":[` }, ReasonContentJSON},
		{"content other object", func(r *source.Record) { r.Content = `{"foo":1}` }, ReasonContentJSON},
		{"content array", func(r *source.Record) { r.Content = `[]` }, ReasonContentJSON},
		{"content null", func(r *source.Record) { r.Content = `null` }, ReasonContentJSON},
		{"content trailing text", func(r *source.Record) { r.Content = `{"TaskId":"t"} x` }, ReasonContentJSON},
		{"sentence of wrong type", func(r *source.Record) { r.Content = `{"Sentences":[{"BeginTime":"0"}]}` }, ReasonContentJSON},
		{"message not JSON", func(r *source.Record) { r.Message = str(`{TaskId`) }, ReasonMessageJSON},
		{"message not a task status", func(r *source.Record) { r.Message = str(`{}`) }, ReasonMessageJSON},
		{"departments not JSON", func(r *source.Record) { r.DepartmentName = `[{"id":1,` }, ReasonDepartmentJSON},
		{"department id not a number", func(r *source.Record) { r.DepartmentName = `[{"id":"1"}]` }, ReasonDepartmentJSON},
		{"level not ids", func(r *source.Record) { r.DepartmentName = `[{"id":1,"level":"0.a.","name":"n"}]` }, ReasonDepartmentJSON},
		{"gmtCreateTime format", func(r *source.Record) { r.GmtCreateTime = "2025/03/21 14:43:03" }, ReasonTimeFormat},
		{"msgTime empty", func(r *source.Record) { r.MsgTime = "" }, ReasonTimeFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRecord(t, 660475461327008)
			tc.edit(&r)
			c, err := FromRecord(&r)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("FromRecord = %v, %v; want a *ParseError", c, err)
			}
			if pe.Reason != tc.reason || pe.Err == nil || pe.Error() != pe.Err.Error() {
				t.Errorf("ParseError{%q, %v}, want reason %q", pe.Reason, pe.Err, tc.reason)
			}
			if !slices.Contains(Reasons(), pe.Reason) {
				t.Errorf("reason %q is not in Reasons()", pe.Reason)
			}
			if !strings.HasPrefix(err.Error(), "parsing ") {
				t.Errorf("error %q does not say what was being parsed", err)
			}
		})
	}
}

func TestID(t *testing.T) {
	// Expected values from Python: hashlib.sha256(b"...").hexdigest()[:32].
	tests := []struct {
		id      int64
		status  int32
		content string
		want    string
	}{
		{660475461327008, 2, `{"Sentences":[]}`, "7cce25bf5c3ee5f487727843fdf07846"},
		{1, 0, "", "22656e08ac2e21daf984d0cfdd2eb9e8"},
		{-5, -1, "内容", "8dd9bec0fa8eb70ca1b89ece57152bb1"},
	}
	for _, tc := range tests {
		if got := ID(tc.id, tc.status, tc.content); got != tc.want {
			t.Errorf("ID(%d, %d, %q) = %s, want %s", tc.id, tc.status, tc.content, got, tc.want)
		}
	}
}
