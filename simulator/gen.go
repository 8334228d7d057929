package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Call types the vendor records.
const (
	callTypeWeChat = "微信语音"
	callTypePhone  = "电销手机"
)

// world is what a seed fixes for all its calls: the corp, its sales staff
// and its department tree.
type world struct {
	idBase    int64
	corpID    string
	ossPrefix string // recording URLs start with it
	sales     []salesPerson
	depts     []string // each a JSON object {"id","level","name"}
}

type salesPerson struct {
	id   int64
	name string
}

func newWorld(seed uint64) world {
	r := newRNG(seed, 0, saltWorld)
	w := world{
		idBase:    660_000_000_000_000 + int64(r.next()%1_000_000_000_000),
		corpID:    "ww" + hex(&r, 16),
		ossPrefix: "https://recordings.example.com/" + hex(&r, 32) + "/",
	}
	for range 3 + r.intn(4) {
		w.sales = append(w.sales, salesPerson{
			id:   445_000_000_000_000 + int64(r.next()%1_000_000_000_000),
			name: pick(&r, salesNames),
		})
	}
	// A tree under one root: each department hangs under the root or under
	// one made before it, so its level is its ancestors' ids, dotted.
	root := 90000 + r.intn(10000)
	type dept struct{ id, level string }
	made := []dept{{strconv.Itoa(root), "0." + strconv.Itoa(root) + "."}}
	id := 100000 + r.intn(5000)
	for _, name := range departmentNames {
		id += 1 + r.intn(600)
		parent := made[r.intn(len(made))]
		d := dept{strconv.Itoa(id), parent.level + strconv.Itoa(id) + "."}
		made = append(made, d)
		w.depts = append(w.depts, fmt.Sprintf(`{"id":%s,"level":%s,"name":%s}`,
			d.id, jsonString(d.level), jsonString(name)))
	}
	return w
}

// record makes call i as it is at now. The random draws never depend on the
// status, so a call keeps its ids, names and texts as its status changes.
func (s *Simulator) record(i int, now time.Time) Record {
	tl, w := &s.tl, &s.world
	arrival := tl.arrival(i)
	r := newRNG(tl.seed, uint64(i), saltRecord)

	id := w.idBase + int64(i)<<20 + int64(r.intn(1<<20))
	taskID := hex(&r, 32)
	callType := callTypeWeChat
	if r.intn(10) >= 6 {
		callType = callTypePhone
	}
	sales := pick(&r, w.sales)
	depts := pick(&r, w.depts)
	if r.intn(5) == 0 {
		depts += "," + pick(&r, w.depts)
	}
	sendName := chineseName(&r)
	receiveName := receiver(&r, callType)
	msgTime := arrival.Add(-time.Duration(r.intn(3*24*3600)) * time.Second)
	if callType == callTypePhone {
		msgTime = arrival.Add(-time.Duration(60+r.intn(3600)) * time.Second)
	}
	msgMillis := msgTime.UnixMilli()
	preCost := int64(2000 + 10*r.intn(5800))
	msgID := fmt.Sprintf("%d_%d_external", r.next()>>1, msgMillis)
	folder := "WechatSmallFile"
	if callType == callTypePhone {
		msgID = fmt.Sprintf("%s_%d_%d", hex(&r, 16), msgMillis, 1+r.intn(9))
		folder = "resource"
	}
	mt := msgTime.In(cst)
	rec := Record{
		ID: id, TaskID: taskID, CorpID: w.corpID, Type: "call", MsgID: msgID,
		PreCost: preCost, Method: "web", SalesID: sales.id, SalesName: sales.name,
		GmtCreateTime: formatTime(arrival), MsgTime: formatTime(msgTime),
		DepartmentName: "[" + depts + "]", SendName: sendName, ReceiveName: receiveName,
		CallType: callType,
		URL:      w.ossPrefix + mt.Format("200601/02/") + folder + "/" + hex(&r, 32) + ".mp3",
	}
	rec.Status = tl.status(i, arrival, now)
	switch rec.Status {
	case statusConverting:
		rec.StatusStr = "转换中"
	case statusConverted:
		rec.StatusStr = "转换成功"
		rec.Cost = preCost - int64(r.intn(int(preCost/25)+1))
		rec.Content = s.convertedContent(i, rec.Cost, arrival, now)
	case statusFailed:
		rec.StatusStr = "转换失败"
		f := pick(&r, failures)
		req := arrival.Add(time.Duration(200+r.intn(800)) * time.Millisecond)
		solved := arrival.Add(tl.convertFor(i))
		if solved.Before(req) {
			solved = req
		}
		msg := fmt.Sprintf(`{"TaskId":%s,"StatusText":%s,"RequestTime":%d,"SolveTime":%d,"StatusCode":%d}`,
			jsonString(taskID), jsonString(f.text), req.UnixMilli(), solved.UnixMilli(), f.code)
		rec.Message, rec.Content = &msg, msg
	}
	if rec.Status != statusConverting && tl.isBroken(i) {
		rec.Content = cut(rec.Content)
		if rec.Message != nil {
			rec.Message = &rec.Content
		}
	}
	return rec
}

// cut returns the first half of a JSON text, at a character boundary:
// never JSON, always the same for the same text.
func cut(s string) string {
	n := len(s) / 2
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// transcript is the JSON of a converted call's sentences, spread over its
// billed milliseconds on two channels; the first sentence corrected (see
// correctionMark) when corrected is set.
func (s *Simulator) transcript(i int, costMillis int64, corrected bool) string {
	r := newRNG(s.tl.seed, uint64(i), saltSentences)
	title := pick(&r, surnames) + pick(&r, []string{"先生", "女士"})
	n := 2 + r.intn(4) // an opening, up to three middles, a closing
	step := costMillis / int64(n)
	b := make([]byte, 0, 160*n)
	b = append(b, `{"Sentences":[`...)
	for k := range n {
		text := pick(&r, middles)
		switch k {
		case 0:
			text = strings.Replace(pick(&r, openings), "%s", title, 1)
			if corrected {
				text += correctionMark
			}
		case n - 1:
			text = pick(&r, closings)
		}
		begin := int64(k) * step
		end := begin + step*(70+int64(r.intn(30)))/100
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"EndTime":`...)
		b = strconv.AppendInt(b, end, 10)
		b = append(b, `,"BeginTime":`...)
		b = strconv.AppendInt(b, begin, 10)
		b = append(b, `,"Text":`...)
		b = appendString(b, text)
		b = append(b, `,"ChannelId":`...)
		b = strconv.AppendInt(b, int64(k%2), 10)
		b = append(b, '}')
	}
	b = append(b, `]}`...)
	return string(b)
}

func chineseName(r *rng) string {
	name := pick(r, surnames) + pick(r, givenChars)
	if r.intn(3) > 0 {
		name += pick(r, givenChars)
	}
	return name
}

// receiver is the other party's display name: a WeChat contact's name or
// nickname, and for telesales phones mostly nothing, as in the vendor's
// example.
func receiver(r *rng, callType string) string {
	n := r.intn(10)
	switch {
	case callType == callTypePhone && n < 7:
		return ""
	case n < 3:
		return chineseName(r) + "-" + pick(r, companies)
	case n < 5:
		return pick(r, nicknames) + "1" + strconv.Itoa(3+r.intn(7)) + fmt.Sprintf("%09d", r.intn(1_000_000_000))
	case n < 8:
		return pick(r, nicknames)
	default:
		return chineseName(r)
	}
}

// hex returns n random lower-case hex digits.
func hex(r *rng, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	var v uint64
	for k := range b {
		if k%16 == 0 {
			v = r.next()
		}
		b[k] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}
