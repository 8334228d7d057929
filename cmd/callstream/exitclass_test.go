package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/callstream/callstream/connector/sink"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestExitClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&sink.FatalError{Err: fmt.Errorf("committing transaction: %w", kerr.ProducerFenced)}, "fenced"},
		{&sink.FatalError{Err: fmt.Errorf("committing transaction: %w", kerr.TransactionalIDAuthorizationFailed)}, "acl"},
		{&sink.FatalError{Err: fmt.Errorf("committing transaction: %w", kerr.UnknownServerError)}, "kafka"},
		{&sink.FatalError{Err: fmt.Errorf("creating topic: %w", kerr.SaslAuthenticationFailed)}, "auth"},
		{&sink.FatalError{Err: fmt.Errorf("checking: %w", sink.ErrStateNotCompacted)}, "config"},
		{fmt.Errorf("--listen: %w", errors.New("bind: address already in use")), "fatal"},
	} {
		if got := exitClass(tc.err); got != tc.want {
			t.Errorf("exitClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
