package simulator

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// contentFaults are the faults of a FaultSpec that change what a converted
// call's transcript says; like dataFaults, each picks its calls by the
// index or the seed, so the truth follows.
type contentFaults struct {
	largeEvery int // every largeEvery-th call's transcript is large
	largeBytes int // of about this many bytes of text
	corrected  float64
	// correctedAfter is how long after its conversion a corrected call's
	// transcript changes.
	correctedAfter time.Duration
}

// Salts of the content faults' draws, apart from those of the calls and of
// the other faults.
const (
	saltCorrected uint64 = iota + 201
	saltLarge
)

// isLarge reports whether call i's transcript is large once converted.
func (tl *timeline) isLarge(i int) bool {
	n := tl.content.largeEvery
	return n > 0 && (i+1)%n == 0
}

// isCorrected reports whether call i's transcript is ever corrected.
func (tl *timeline) isCorrected(i int) bool {
	return tl.content.corrected > 0 && unit(tl.seed, uint64(i), saltCorrected) < tl.content.corrected
}

// correctedBy reports whether call i's transcript has been corrected by now.
func (tl *timeline) correctedBy(i int, arrival, now time.Time) bool {
	return tl.isCorrected(i) && !now.Before(arrival.Add(tl.convertFor(i)+tl.content.correctedAfter))
}

// convertedContent is the content of converted call i at now: its
// transcript, large under the large-transcript fault, with its first
// sentence corrected under the corrected fault once the correction is due.
func (s *Simulator) convertedContent(i int, costMillis int64, arrival, now time.Time) string {
	corrected := s.tl.correctedBy(i, arrival, now)
	if s.tl.isLarge(i) {
		return s.largeTranscript(i, costMillis, corrected)
	}
	return s.transcript(i, costMillis, corrected)
}

// correctionMark ends the first sentence of a corrected transcript: a
// re-transcription that changed its words.
const correctionMark = "（已校对）"

// largeTranscript is a transcript of about largeBytes bytes of text: lines
// of characters drawn at random from the CJK block, which compress badly,
// as a five-hour call's text would be large.
func (s *Simulator) largeTranscript(i int, costMillis int64, corrected bool) string {
	const sentenceRunes = 300
	size := s.tl.content.largeBytes
	n := max(1, size/(3*sentenceRunes))
	r := newRNG(s.tl.seed, uint64(i), saltLarge)
	step := max(costMillis/int64(n), 1)
	b := make([]byte, 0, size+n*64)
	b = append(b, `{"Sentences":[`...)
	text := make([]byte, 0, 3*sentenceRunes+len(correctionMark))
	for k := range n {
		text = text[:0]
		for range sentenceRunes {
			text = utf8.AppendRune(text, rune(0x4E00+r.intn(0x9FA5-0x4E00)))
		}
		if k == 0 && corrected {
			text = append(text, correctionMark...)
		}
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"EndTime":`...)
		b = strconv.AppendInt(b, int64(k)*step+step*9/10, 10)
		b = append(b, `,"BeginTime":`...)
		b = strconv.AppendInt(b, int64(k)*step, 10)
		b = append(b, `,"Text":`...)
		b = appendString(b, string(text))
		b = append(b, `,"ChannelId":`...)
		b = strconv.AppendInt(b, int64(k%2), 10)
		b = append(b, '}')
	}
	b = append(b, `]}`...)
	return string(b)
}

// Large returns the ids of the calls created so far whose current record
// has a large transcript (the large-transcript fault), ascending: converted,
// and not broken by another fault, so that their events are too large for
// Kafka's default limit and a connector must dead-letter them.
func (s *Simulator) Large() []int64 {
	now := s.cfg.Clock()
	ids := []int64{}
	if s.tl.content.largeEvery <= 0 {
		return ids
	}
	s.tl.visible(0, s.tl.arrived(now), now).each(func(i int) bool {
		if s.tl.isLarge(i) && !s.tl.isBroken(i) && s.tl.status(i, s.tl.arrival(i), now) == statusConverted {
			ids = append(ids, s.record(i, now).ID)
		}
		return true
	})
	return ids
}

// contentCounts returns how many calls created so far each content fault
// touched: large transcripts (converted), and transcripts corrected.
func (s *Simulator) contentCounts(now time.Time) (large, corrected int64) {
	f := s.tl.content
	if f.largeEvery <= 0 && f.corrected <= 0 {
		return 0, 0
	}
	for i := range s.tl.arrived(now) {
		arrival := s.tl.arrival(i)
		if s.tl.status(i, arrival, now) != statusConverted {
			continue
		}
		if s.tl.isLarge(i) {
			large++
		}
		if s.tl.correctedBy(i, arrival, now) {
			corrected++
		}
	}
	return large, corrected
}
