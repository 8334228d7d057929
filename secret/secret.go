// Package secret holds values that must never be printed: the vendor's app
// key, computed signatures, SASL passwords and tokens.
package secret

import "log/slog"

// String is a secret value. Every way of printing it (fmt verbs, slog,
// JSON) shows "<secret>"; Reveal returns the value for the one place that
// needs it.
type String string

const redacted = "<secret>"

// Reveal returns the secret's value.
func (s String) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (String) String() string { return redacted }

// GoString implements fmt.GoStringer, so that %#v stays redacted too.
func (String) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (String) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler, which JSON and YAML use.
func (String) MarshalText() ([]byte, error) { return []byte(redacted), nil }
