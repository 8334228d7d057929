// Package calllist is the wire format of the vendor's getCallList API
// (POST /api/v3/app/getCallList): the request body, the response envelope,
// the record, China Standard Time, the sign recipes, and the one decoder of
// each shape.
//
// A response is read in one pass (DecodePage): the envelope is decoded and
// each record of data.result is sliced out with its id and the hash of its
// bytes, so a caller can skip a record it has seen before without decoding
// it. A record worth reading is decoded into an event.Call in one more pass
// (DecodeCall), the JSON held in its strings (content, message,
// departmentName) included. Nothing the vendor sends is dropped: keys the
// decoder does not know travel as raw JSON in the call's Extra, and a record
// that cannot be read is a *DecodeError with a Reason, for the dead-letter
// topic.
//
// The decoder is this package's own (scan.go): one pass over the bytes,
// strings found eight bytes at a time, every byte validated as RFC 8259
// has it; docs/performance.md has the measurement that chose it over
// jsontext. It accepts any valid JSON: keys in any order, any whitespace,
// escapes; keys match as the vendor spells them (case matters), and when a
// key comes twice in one object the last one wins, as in encoding/json.
// Invalid UTF-8 in a string becomes U+FFFD, as in encoding/json.
//
// The package knows nothing of HTTP or Kafka.
package calllist

// Path is the endpoint's path, appended to the API's base URL.
const Path = "/api/v3/app/getCallList"
