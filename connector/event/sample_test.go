package event

import (
	"encoding/json"
	"testing"
	"time"
)

// sampleCalls are calls of every shape the encoder must carry: a failed
// conversion and a converted call as calllist decodes them from the vendor's
// sample response (connector/calllist tests the decoding), a call in
// progress, and calls with keys the vendor added, kept in extra maps.
func sampleCalls() []*Call {
	return []*Call{
		{
			ID: 661181201146016, TaskID: "315bb32e8d9846f6b4961432fd064a1a", CorpID: "wwd074f3968f56dcb0",
			Type: "call", MsgID: "4502496428933959426_1742553261641_external", PreCost: 3260, Cost: 0,
			Status: 0, StatusStr: "转换失败", Method: "web", SalesID: 445499900074176, SalesName: "admin",
			GmtCreateTime: utc("2025-03-25T06:26:23Z"), MsgTime: utc("2025-03-21T10:34:16Z"),
			Departments: []Department{{ID: 105610, Level: "0.93186.105610.", Path: []int64{0, 93186, 105610}, Name: "白立宏测试1"}},
			SendName:    "朱佳玉", ReceiveName: "赵润-向量智享科技", CallType: "微信语音",
			URL:     "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/WechatSmallFile/b9d6980b7b0c4189a6978eff7ff496aa.mp3",
			Message: failedStatus(),
			Content: failedStatus(),
		},
		{
			ID: 661148725483680, TaskID: "t-in-progress", CorpID: "wwd074f3968f56dcb0", Type: "call",
			Status: 1, Method: "web", GmtCreateTime: utc("2025-03-25T04:17:44Z"), MsgTime: utc("2025-03-25T04:10:00Z"),
			CallType: "微信语音", Extra: map[string]string{"newKey": `{"a":[1,2]}`},
		},
		{
			ID: 661147465132192, Status: 2, StatusStr: "转换成功", GmtCreateTime: utc("2025-03-25T04:12:56Z"),
			MsgTime: utc("2025-03-25T04:12:00Z"),
			Content: &Transcript{
				Sentences: []Sentence{{BeginTimeMs: 1, EndTimeMs: 2, Text: "好", ChannelID: 0,
					Extra: map[string]string{"SpeechRate": "3"}}},
				Extra: map[string]string{"Duration": "9"},
			},
		},
		{
			ID: 660479264807072, Status: 0, GmtCreateTime: utc("2025-03-21T07:00:00Z"), MsgTime: utc("2025-03-21T06:59:00Z"),
			Content: &TaskStatus{TaskID: "x", StatusText: "FAILED", RequestTime: utc("2025-03-21T07:00:01Z"),
				SolveTime: utc("2025-03-21T07:00:02Z"), StatusCode: 1, Extra: map[string]string{"ErrorMessage": `"timeout"`}},
		},
		{
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
		},
		{
			ID: 660472554074272, Status: 7, Extra: map[string]string{"sendIsWx": "true"}, GmtCreateTime: utc("2025-03-21T06:30:00Z"), MsgTime: utc("2025-03-21T06:29:00Z"),
			Content: &Transcript{},
		},
	}
}

// sampleEvents returns an event for each sample call, alternating Created
// and StatusChanged.
func sampleEvents(testing.TB) []*Event {
	calls := sampleCalls()
	events := make([]*Event, len(calls))
	for i, c := range calls {
		e := &Event{EventID: ID(c.ID, c.Status, ""), Kind: Created, Call: c, Source: testSource}
		if i%2 == 1 {
			prev := int32(1)
			e.Kind, e.PreviousStatus = StatusChanged, &prev
		}
		events[i] = e
	}
	return events
}

func failedStatus() *TaskStatus {
	return &TaskStatus{TaskID: "315bb32e8d9846f6b4961432fd064a1a", StatusText: "SUCCESS_WITH_NO_VALID_FRAGMENT",
		RequestTime: utc("2025-03-25T06:26:24.490Z"), SolveTime: utc("2025-03-25T06:26:35.502Z"), StatusCode: 21050003}
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
