// Package vendortest holds test vectors of the vendor's wire format, shared
// by the tests of the client (connector/...) and of the simulator, so that
// the two implementations are checked against one table rather than
// against each other. Every expected value here was computed outside Go
// (md5sum, sha1sum, sha256sum and openssl dgst for the signs; date(1) with
// TZ=Asia/Shanghai for the instants) and written down as a literal.
//
// It imports the standard library only, and nothing imports it but tests.
package vendortest

import (
	_ "embed" // the vendor's sample response
	"time"
)

// SampleResponse is the vendor's example answer of getCallList, byte for
// byte as ../shared/upstream/getCallList.sample-response.json has it.
//
//go:embed testdata/getCallList.sample-response.json
var SampleResponse []byte

// SamplePage is what the envelope of SampleResponse says.
var SamplePage = struct {
	Code, TotalCount, TotalPage, PageNo, PageSize int
	Message, DataMessage                          string
}{Code: 0, TotalCount: 8, TotalPage: 1, PageNo: 1, PageSize: 30, Message: "success", DataMessage: "38秒"}

// SampleRecord is what one record of SampleResponse holds, decoded.
type SampleRecord struct {
	ID            int64
	Status        int32
	StatusStr     string
	GmtCreateTime string    // as sent, China Standard Time
	GmtCreate     time.Time // the same instant, UTC
	MsgTime       time.Time // msgTime as an instant, UTC
	PreCost, Cost int64
	SalesID       int64
	CallType      string
	// HasMessage says whether message is a string rather than null.
	HasMessage bool
	// Sentences is the number of sentences in content; 0 for a failed call,
	// whose content is the engine's task status instead.
	Sentences int
	// Departments is the number of departments in departmentName.
	Departments int
	// StatusCode is the engine's StatusCode in content for a failed call.
	StatusCode int64
}

const (
	weChatVoice    = "微信语音"
	telesalesPhone = "电销手机"
	converted      = "转换成功"
	failed         = "转换失败"
	salesID        = 445499900074176
	noValidSpeech  = 21050003
)

func at(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// SampleRecords are the records of SampleResponse in the order sent:
// newest first.
var SampleRecords = []SampleRecord{
	{ID: 661181201146016, Status: 0, StatusStr: failed, GmtCreateTime: "2025-03-25 14:26:23", GmtCreate: at(1742883983),
		MsgTime: at(1742553256), PreCost: 3260, Cost: 0, SalesID: salesID, CallType: weChatVoice, HasMessage: true,
		Departments: 1, StatusCode: noValidSpeech},
	{ID: 661148725483680, Status: 0, StatusStr: failed, GmtCreateTime: "2025-03-25 10:02:06", GmtCreate: at(1742868126),
		MsgTime: at(1740581786), PreCost: 7940, Cost: 0, SalesID: salesID, CallType: weChatVoice, HasMessage: true,
		Departments: 2, StatusCode: noValidSpeech},
	{ID: 661147465132192, Status: 0, StatusStr: failed, GmtCreateTime: "2025-03-25 09:51:50", GmtCreate: at(1742867510),
		MsgTime: at(1742553255), PreCost: 5100, Cost: 0, SalesID: salesID, CallType: weChatVoice, HasMessage: true,
		Departments: 1, StatusCode: noValidSpeech},
	{ID: 660479264807072, Status: 0, StatusStr: failed, GmtCreateTime: "2025-03-21 15:14:01", GmtCreate: at(1742541241),
		MsgTime: at(1742195277), PreCost: 8180, Cost: 0, SalesID: salesID, CallType: weChatVoice, HasMessage: true,
		Departments: 1, StatusCode: noValidSpeech},
	{ID: 660475461327008, Status: 2, StatusStr: converted, GmtCreateTime: "2025-03-21 14:43:03", GmtCreate: at(1742539383),
		MsgTime: at(1742538165), PreCost: 21000, Cost: 21000, SalesID: salesID, CallType: telesalesPhone,
		Sentences: 3, Departments: 1},
	{ID: 660472554074272, Status: 0, StatusStr: failed, GmtCreateTime: "2025-03-21 14:19:24", GmtCreate: at(1742537964),
		MsgTime: at(1742197092), PreCost: 23590, Cost: 0, SalesID: salesID, CallType: weChatVoice, HasMessage: true,
		Departments: 1, StatusCode: noValidSpeech},
	{ID: 660472472553632, Status: 2, StatusStr: converted, GmtCreateTime: "2025-03-21 14:18:44", GmtCreate: at(1742537924),
		MsgTime: at(1742261483), PreCost: 4750, Cost: 4613, SalesID: salesID, CallType: telesalesPhone,
		Sentences: 1, Departments: 1},
	{ID: 660472349397152, Status: 2, StatusStr: converted, GmtCreateTime: "2025-03-21 14:17:44", GmtCreate: at(1742537864),
		MsgTime: at(1742261493), PreCost: 11880, Cost: 11741, SalesID: salesID, CallType: telesalesPhone,
		Sentences: 2, Departments: 1},
}

// SampleKeys are the keys of every record of SampleResponse, in the order
// the vendor writes them.
var SampleKeys = []string{
	"id", "taskId", "corpId", "type", "msgId", "createTime", "preCost", "cost", "status", "message",
	"sender", "senderType", "recipient", "recipientType", "method", "salesId", "gmtCreateTime",
	"departmentName", "sendName", "sendAvatar", "sendThumbAvatar", "sendIsWx", "receiveName",
	"receiveAvatar", "receiveThumbAvatar", "receiveIsWx", "msgTime", "salesName", "callType", "content",
	"url", "userId", "chatId", "statusStr",
}

// TimeVector is a vendor time (yyyy-MM-dd HH:mm:ss, China Standard Time,
// UTC+8 all year) and the instant it names.
type TimeVector struct {
	Text string
	UTC  time.Time
}

// TimeVectors read both ways: Text parses to UTC, and UTC (or any instant
// within its second) formats to Text.
var TimeVectors = []TimeVector{
	{"2025-03-21 14:17:44", at(1742537864)},
	{"2025-03-25 14:26:23", at(1742883983)},
	{"2025-02-26 22:56:26", at(1740581786)},
	{"2025-03-21 00:00:00", at(1742486400)}, // CST midnight is 16:00 UTC the day before
	{"2025-01-01 07:59:59", at(1735689599)}, // the year before in UTC
	{"2024-02-29 08:00:00", at(1709164800)}, // a leap day, UTC midnight
	{"2025-03-27 23:59:59", at(1743091199)}, // the end of the vendor's example window
	{"1970-01-01 08:00:00", time.Unix(0, 0).UTC()},
}

// BadTimes are texts that are not vendor times; a strict reader refuses
// each.
var BadTimes = []string{
	"",
	"yesterday",
	"2025-03-21T00:00:00Z",
	"2025-03-21 00:00",
	"2025-03-21 00:00:00.123",
	"2025-03-21 00:00:00 +0800",
	" 2025-03-21 00:00:00",
	"2025-3-21 00:00:00",
	"2025-13-01 00:00:00",
	"2025-02-30 00:00:00",
	"2025-03-21 24:00:00",
}

// The request that SignVectors sign.
const (
	SignAppID            = "app-123"
	SignAppKey           = "k3y-s3cr3t"
	SignTimestamp        = "1742553261641" // milliseconds since the Unix epoch
	SignTimestampSeconds = "1742553261"    // the same instant in seconds
	SignBody             = `{"startTime":"2025-03-21 00:00:00","endTime":"2025-03-21 00:59:59","type":"chat","pageNo":1,"pageSize":30}`
)

// DefaultSignSpec is the recipe the client and the simulator use when none
// is configured.
const DefaultSignSpec = "md5:appId+timestamp+appKey:lower:ms"

// SignVector is the sign of the request above under one recipe (see the
// grammar in connector/source/sign.go): the digest, in hex, of the fields
// joined by the separator. For hmac-sha256 the appKey is the HMAC key and
// not part of the message. Timestamp is the timestamp header the recipe
// sends: SignTimestamp, or SignTimestampSeconds under unit s.
type SignVector struct {
	Spec      string
	Timestamp string
	Sign      string
}

// SignVectors are recipes with the sign each gives; "" is the default.
var SignVectors = []SignVector{
	{"", SignTimestamp, "8608911b4ef8fac2e844ab8a1a7f6624"},
	{DefaultSignSpec, SignTimestamp, "8608911b4ef8fac2e844ab8a1a7f6624"},
	{"md5", SignTimestamp, "8608911b4ef8fac2e844ab8a1a7f6624"},
	{"md5:appId+timestamp+appKey:upper:ms", SignTimestamp, "8608911B4EF8FAC2E844AB8A1A7F6624"},
	{"MD5:APPID+TIMESTAMP+APPKEY:UPPER", SignTimestamp, "8608911B4EF8FAC2E844AB8A1A7F6624"},
	{"md5:appId+timestamp+appKey:lower:s", SignTimestampSeconds, "d2c2156663cf3d4d0f8a4e342265bb37"},
	{"md5:appKey+appId", SignTimestamp, "bcfcd45f4c05dfcd0127d51f4886c01d"},
	{"sha1", SignTimestamp, "43e408115c208e17acbce9ad2e11f89a0545b66b"},
	{"sha256:appId+timestamp+appKey", SignTimestamp, "326ae741a4392fc1f6452c084bb0a52c629f199101d4d80e81c49db14434bb0b"},
	{"sha1:appId+appKey+timestamp:lower:ms:|", SignTimestamp, "d48c5cb40c788fb3a2a48ac7587099ce2a421f29"},
	{"md5:appId+timestamp+appKey:lower:ms:a:b", SignTimestamp, "b38e579e6354f460d3cd6c04a51826a7"},
	{"md5:appId+timestamp+appKey+body", SignTimestamp, "70fe3bd35a34148976a82357d7173a97"},
	{"sha256:timestamp+appKey+body", SignTimestamp, "2be7420f369fd50feb28880ae978ca68221405b3b6d60f982b4ec5b91e99ab5c"},
	{"hmac-sha256:appId+timestamp+body", SignTimestamp, "bbb82286223cc3bc9ad0422b08ffc86eb9098e18b42210a6dca2167f324a02ab"},
	{"hmac-sha256:appId+appKey+timestamp+body", SignTimestamp, "bbb82286223cc3bc9ad0422b08ffc86eb9098e18b42210a6dca2167f324a02ab"},
	{"hmac-sha256:appId+timestamp:upper:s:&", SignTimestampSeconds, "C55101E7475892CCBA758B0ADDEA4E826FAF5633F2FB97EF712E62004D63AE2F"},
}

// BadSignSpecs are recipes that are not in the grammar; both sides refuse
// each.
var BadSignSpecs = []string{
	"crc32",
	"md5:",
	"md5:appId+nonce",
	"md5:appId+appId",
	"md5:appId+timestamp:mixed",
	"md5:appId+timestamp:lower:min",
	"hmac-sha256:appKey",
}
