package calllist

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
)

// samplePage decodes the vendor's example response.
func samplePage(t testing.TB) *Page {
	t.Helper()
	body, err := os.ReadFile("testdata/getCallList.sample-response.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePage(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 8 {
		t.Fatalf("sample holds %d records, want 8", len(p.Records))
	}
	return p
}

// sampleRaw returns the raw JSON of the sample record id.
func sampleRaw(t testing.TB, id int64) []byte {
	t.Helper()
	for _, r := range samplePage(t).Records {
		if r.ID == id {
			return r.JSON
		}
	}
	t.Fatalf("no record %d in the sample", id)
	return nil
}

// edited returns the sample record id with edit applied to its keys.
func edited(t testing.TB, id int64, edit func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(sampleRaw(t, id)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func failedStatus() *event.TaskStatus {
	return &event.TaskStatus{TaskID: "315bb32e8d9846f6b4961432fd064a1a", StatusText: "SUCCESS_WITH_NO_VALID_FRAGMENT",
		RequestTime: utc("2025-03-25T06:26:24.490Z"), SolveTime: utc("2025-03-25T06:26:35.502Z"), StatusCode: 21050003}
}

func TestDecodeCallSample(t *testing.T) {
	for _, r := range samplePage(t).Records {
		rec, err := DecodeCall(r.JSON)
		if err != nil {
			t.Errorf("record %d: %v", r.ID, err)
			continue
		}
		c := rec.Call
		if c.ID != r.ID || c.Extra != nil || len(c.Departments) == 0 || rec.Unknown != nil {
			t.Errorf("record %d: got id %d extra %v departments %v unknown %v", r.ID, c.ID, c.Extra, c.Departments, rec.Unknown)
		}
		switch content := c.Content.(type) {
		case *event.Transcript:
			if c.Status != 2 || c.Message != nil || len(content.Sentences) == 0 {
				t.Errorf("record %d: status %d with transcript %+v, message %+v", r.ID, c.Status, content, c.Message)
			}
		case *event.TaskStatus:
			if c.Status != 0 || !reflect.DeepEqual(content, c.Message) {
				t.Errorf("record %d: status %d with task status %+v, message %+v", r.ID, c.Status, content, c.Message)
			}
		default:
			t.Errorf("record %d: content %T", r.ID, content)
		}
		if !strings.HasPrefix(rec.Content, "{") {
			t.Errorf("record %d: raw content %.40q", r.ID, rec.Content)
		}
	}
}

// TestDecodeCallExact checks every field of one converted and one failed
// record of the sample.
func TestDecodeCallExact(t *testing.T) {
	tests := []struct {
		id   int64
		want *event.Call
	}{
		{660475461327008, &event.Call{
			ID: 660475461327008, TaskID: "d6ad8b6ab4374f8bb22c83f1e8d5bcf1", CorpID: "wwd074f3968f56dcb0",
			Type: "call", MsgID: "9d23756da450c5fc_1742538188519_5", PreCost: 21000, Cost: 21000,
			Status: 2, StatusStr: "转换成功", Method: "web", SalesID: 445499900074176, SalesName: "admin",
			GmtCreateTime: utc("2025-03-21T06:43:03Z"), MsgTime: utc("2025-03-21T06:22:45Z"),
			Departments: []event.Department{{ID: 106145, Level: "0.93186.106142.106143.106144.106145.",
				Path: []int64{0, 93186, 106142, 106143, 106144, 106145}, Name: "zr子子子部门"}},
			SendName: "白玉米", ReceiveName: "", CallType: "电销手机",
			URL: "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/resource/7e63fc9918bf47dc8650d246341b390b.mp3",
			Content: &event.Transcript{Sentences: []event.Sentence{
				{BeginTimeMs: 0, EndTimeMs: 5599, Text: "您好,欢迎您使用北京联通自助查费直通车。", ChannelID: 1},
				{BeginTimeMs: 7840, EndTimeMs: 13923, Text: "您本月实时话费零元,剩余话费付两千八百六十二点四九元。", ChannelID: 1},
				{BeginTimeMs: 13923, EndTimeMs: 20980, Text: "于是虞亮话费构成消费及套餐详情已发送您的手机,请您查收,继续查。", ChannelID: 1},
			}},
		}},
		{661181201146016, &event.Call{
			ID: 661181201146016, TaskID: "315bb32e8d9846f6b4961432fd064a1a", CorpID: "wwd074f3968f56dcb0",
			Type: "call", MsgID: "4502496428933959426_1742553261641_external", PreCost: 3260, Cost: 0,
			Status: 0, StatusStr: "转换失败", Method: "web", SalesID: 445499900074176, SalesName: "admin",
			GmtCreateTime: utc("2025-03-25T06:26:23Z"), MsgTime: utc("2025-03-21T10:34:16Z"),
			Departments: []event.Department{{ID: 105610, Level: "0.93186.105610.", Path: []int64{0, 93186, 105610}, Name: "白立宏测试1"}},
			SendName:    "朱佳玉", ReceiveName: "赵润-向量智享科技", CallType: "微信语音",
			URL:     "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/WechatSmallFile/b9d6980b7b0c4189a6978eff7ff496aa.mp3",
			Message: failedStatus(),
			Content: failedStatus(),
		}},
	}
	for _, tc := range tests {
		rec, err := DecodeCall(sampleRaw(t, tc.id))
		if err != nil {
			t.Fatalf("record %d: %v", tc.id, err)
		}
		if !reflect.DeepEqual(rec.Call, tc.want) {
			t.Errorf("record %d:\n got %s\nwant %s", tc.id, jsonOf(t, rec.Call), jsonOf(t, tc.want))
		}
	}
}

func TestDecodeCallVariants(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		check   func(c *event.Call) bool
		unknown []string
	}{
		{"empty content is null", func(m map[string]any) { m["content"], m["message"], m["status"] = "", nil, 1 },
			func(c *event.Call) bool { return c.Content == nil && c.Message == nil && c.Status == 1 }, nil},
		{"empty message is null", func(m map[string]any) { m["message"] = "" },
			func(c *event.Call) bool { return c.Message == nil }, nil},
		{"null strings and numbers are empty", func(m map[string]any) {
			m["sendName"], m["callType"], m["cost"], m["departmentName"] = nil, nil, nil, nil
		}, func(c *event.Call) bool {
			return c.SendName == "" && c.CallType == "" && c.Cost == 0 && c.Departments == nil
		}, nil},
		{"keys the engine adds are kept", func(m map[string]any) {
			m["content"] = `{"RequestId":"x","Sentences":[{"BeginTime":1,"EndTime":2,"Text":"a","ChannelId":0,"SpeechRate":3}],"Duration":9}`
		}, func(c *event.Call) bool {
			return reflect.DeepEqual(c.Content, &event.Transcript{
				Sentences: []event.Sentence{{BeginTimeMs: 1, EndTimeMs: 2, Text: "a", Extra: map[string]string{"SpeechRate": "3"}}},
				Extra:     map[string]string{"RequestId": `"x"`, "Duration": "9"},
			})
		}, []string{"content.RequestId", "content.Sentences.SpeechRate", "content.Duration"}},
		{"keys the engine adds to a task status are kept", func(m map[string]any) {
			m["content"], m["status"] = `{"TaskId":"t","StatusCode":1,"Detail":{"a":1}}`, 0
		}, func(c *event.Call) bool {
			ts, ok := c.Content.(*event.TaskStatus)
			return ok && reflect.DeepEqual(ts.Extra, map[string]string{"Detail": `{"a":1}`})
		}, []string{"content.Detail"}},
		{"empty sentences", func(m map[string]any) { m["content"] = `{"Sentences":[]}` },
			func(c *event.Call) bool { return reflect.DeepEqual(c.Content, &event.Transcript{}) }, nil},
		{"empty departments", func(m map[string]any) { m["departmentName"] = "[]" },
			func(c *event.Call) bool { return c.Departments == nil }, nil},
		{"no departmentName", func(m map[string]any) { m["departmentName"] = "" },
			func(c *event.Call) bool { return c.Departments == nil }, nil},
		{"empty level", func(m map[string]any) { m["departmentName"] = `[{"id":1,"level":"","name":"n"}]` },
			func(c *event.Call) bool {
				return reflect.DeepEqual(c.Departments, []event.Department{{ID: 1, Name: "n"}})
			}, nil},
		{"keys the vendor adds to a department are kept", func(m map[string]any) {
			m["departmentName"] = `[{"id":1,"level":"0.1.","name":"n","parentId":0,"leader":{"id":5}}]`
		}, func(c *event.Call) bool {
			return reflect.DeepEqual(c.Departments, []event.Department{{ID: 1, Level: "0.1.", Path: []int64{0, 1}, Name: "n",
				Extra: map[string]string{"parentId": "0", "leader": `{"id":5}`}}})
		}, []string{"departmentName.parentId", "departmentName.leader"}},
		{"non-null documented nulls are kept raw", func(m map[string]any) {
			m["sendIsWx"], m["chatId"], m["userId"] = true, "c1", nil
		}, func(c *event.Call) bool {
			return reflect.DeepEqual(c.Extra, map[string]string{"sendIsWx": "true", "chatId": `"c1"`})
		}, nil},
		{"unknown keys are kept raw, null or not", func(m map[string]any) {
			m["region"], m["tags"], m["Id"] = "cn", []any{1, "a"}, nil
		}, func(c *event.Call) bool {
			return reflect.DeepEqual(c.Extra, map[string]string{"region": `"cn"`, "tags": `[1,"a"]`, "Id": "null"})
		}, []string{"Id", "region", "tags"}},
		{"other status passes as is", func(m map[string]any) { m["status"] = 7 },
			func(c *event.Call) bool { return c.Status == 7 }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := DecodeCall(edited(t, 660475461327008, tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(rec.Call) {
				t.Errorf("got %s", jsonOf(t, rec.Call))
			}
			slices.Sort(rec.Unknown)
			slices.Sort(tc.unknown)
			if !slices.Equal(rec.Unknown, tc.unknown) {
				t.Errorf("unknown = %q, want %q", rec.Unknown, tc.unknown)
			}
		})
	}
}

// TestDecodeCallAnyValidJSON: key order, whitespace, escapes and duplicate
// keys (the last wins) do not change the call.
func TestDecodeCallAnyValidJSON(t *testing.T) {
	raw := []byte(`{ "status" : 2 ,"gmtCreateTime":"2025-03-21 14:43:03",
	  "msgTime" : "2025-03-21 14:22:45", "i\u0064":1, "sendName":"\u767d\u7389\u7c73", "id" :
	  660475461327008, "content":"{\"Sentences\":[{\"Text\":\"a\\\"b\"}]}", "status": 1 }`)
	rec, err := DecodeCall(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Call
	want := &event.Transcript{Sentences: []event.Sentence{{Text: `a"b`}}}
	if c.ID != 660475461327008 || c.Status != 1 || c.SendName != "白玉米" || !reflect.DeepEqual(c.Content, want) {
		t.Errorf("got %s", jsonOf(t, c))
	}
	if rec.Content != `{"Sentences":[{"Text":"a\"b"}]}` {
		t.Errorf("raw content %q", rec.Content)
	}

	// A null after a value leaves the value, for the page's id and the
	// record's alike (encoding/json's rule); a null message is none.
	raw = []byte(`{"id":7,"status":2,"gmtCreateTime":"2025-03-21 14:43:03","msgTime":"2025-03-21 14:22:45",
	  "message":"{\"TaskId\":\"t\"}","id":null,"status":null,"gmtCreateTime":null,"cost":9,"cost":null,"message":null}`)
	if rec, err = DecodeCall(raw); err != nil || rec.Call.ID != 7 || rec.Call.Status != 2 || rec.Call.Cost != 9 || rec.Call.Message != nil {
		t.Errorf("nulls after values: %v, %v", err, rec.Call)
	}
	if p, err := DecodePage(page(string(raw))); err != nil || p.Records[0].ID != 7 {
		t.Errorf("page id after a null: %v, %+v", err, p)
	}
}

func TestDecodeCallErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		reason string
	}{
		{"no id", func(m map[string]any) { delete(m, "id") }, ReasonNoID},
		{"null id", func(m map[string]any) { m["id"] = nil }, ReasonNoID},
		{"no status", func(m map[string]any) { delete(m, "status") }, ReasonNoStatus},
		{"null status", func(m map[string]any) { m["status"] = nil }, ReasonNoStatus},
		{"no gmtCreateTime", func(m map[string]any) { delete(m, "gmtCreateTime") }, ReasonNoGmtCreateTime},
		{"null gmtCreateTime", func(m map[string]any) { m["gmtCreateTime"] = nil }, ReasonNoGmtCreateTime},
		{"status a string", func(m map[string]any) { m["status"] = "2" }, ReasonRecordJSON},
		{"status a fraction", func(m map[string]any) { m["status"] = json.Number("2.5") }, ReasonRecordJSON},
		{"status too large", func(m map[string]any) { m["status"] = json.Number("4294967296") }, ReasonRecordJSON},
		{"name a number", func(m map[string]any) { m["sendName"] = 5 }, ReasonRecordJSON},
		{"content not JSON", func(m map[string]any) { m["content"] = `{"Sentences":[` }, ReasonContentJSON},
		{"content other object", func(m map[string]any) { m["content"] = `{"foo":1}` }, ReasonContentJSON},
		{"content array", func(m map[string]any) { m["content"] = `[]` }, ReasonContentJSON},
		{"content null", func(m map[string]any) { m["content"] = `null` }, ReasonContentJSON},
		{"content trailing text", func(m map[string]any) { m["content"] = `{"TaskId":"t"} x` }, ReasonContentJSON},
		{"sentence of wrong type", func(m map[string]any) { m["content"] = `{"Sentences":[{"BeginTime":"0"}]}` }, ReasonContentJSON},
		{"message not JSON", func(m map[string]any) { m["message"] = `{TaskId` }, ReasonMessageJSON},
		{"message not a task status", func(m map[string]any) { m["message"] = `{}` }, ReasonMessageJSON},
		{"departments not JSON", func(m map[string]any) { m["departmentName"] = `[{"id":1,` }, ReasonDepartmentJSON},
		{"department id not a number", func(m map[string]any) { m["departmentName"] = `[{"id":"1"}]` }, ReasonDepartmentJSON},
		{"level not ids", func(m map[string]any) { m["departmentName"] = `[{"id":1,"level":"0.a.","name":"n"}]` }, ReasonDepartmentJSON},
		{"gmtCreateTime format", func(m map[string]any) { m["gmtCreateTime"] = "2025/03/21 14:43:03" }, ReasonTimeFormat},
		{"msgTime empty", func(m map[string]any) { m["msgTime"] = "" }, ReasonTimeFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := DecodeCall(edited(t, 660475461327008, tc.edit))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("DecodeCall = %v, %v; want a *DecodeError", rec.Call, err)
			}
			if de.Reason != tc.reason || de.Err == nil || de.Error() != de.Err.Error() {
				t.Errorf("DecodeError{%q, %v}, want reason %q", de.Reason, de.Err, tc.reason)
			}
			if !slices.Contains(Reasons(), de.Reason) {
				t.Errorf("reason %q is not in Reasons()", de.Reason)
			}
			if strings.Contains(err.Error(), "白玉米") || strings.Contains(err.Error(), "admin") {
				t.Errorf("error %q quotes a value of the record", err)
			}
			keeps := tc.reason != ReasonRecordJSON && tc.reason != ReasonNoID
			if (rec.Call != nil) != keeps {
				t.Errorf("call after %s: %v, want one: %v", tc.reason, rec.Call, keeps)
			}
		})
	}
	for _, raw := range []string{``, `null`, `[]`, `"x"`, `{"id":1`, `{"id":1}x`, `{"id":1,}`} {
		_, err := DecodeCall([]byte(raw))
		var de *DecodeError
		if !errors.As(err, &de) || de.Reason != ReasonRecordJSON {
			t.Errorf("DecodeCall(%s) = %v, want a %s error", raw, err, ReasonRecordJSON)
		}
	}
}

// A level's ids are read as strconv.ParseInt reads them.
func TestParseLevelIsParseInt(t *testing.T) {
	for _, seg := range []string{"0", "93186", "-5", "+7", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1a", "-", "+", "", " 1", "1_0", "０"} {
		want, werr := strconv.ParseInt(seg, 10, 64)
		got, ok := parseDecimal(seg)
		if ok != (werr == nil) || got != want && ok {
			t.Errorf("parseDecimal(%q) = %d, %v; strconv.ParseInt: %d, %v", seg, got, ok, want, werr)
		}
	}
}
