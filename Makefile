# callstream: the README's test command and the reliability runs described
# in docs/reliability.md. Plain `go test` does the same; this file only
# names the long runs.
GO ?= go

# The reliability scenarios of cmd/callstream (the checker's own tests are
# in package check).
RELIABILITY := TestCrashKill9|TestCrashAtPoints|TestZombieFenced|TestRollingUpdate|TestFencedHold|TestBrokerFaults|TestKafkaErrorClasses|TestKafkaResponsesLost|TestAPIFaults|TestListingFaults|TestImperfectVendor|TestGroupReliability|TestGroupBrokerRestart|TestRestoreAfterBrokerCrashInTransaction

# Cycles of every scenario but kill -9 in the long run.
LONG_CYCLES ?= 10

.PHONY: test reliability reliability-long reliability-kill9 reliability-matrix

test:
	$(GO) test -race -timeout 30m ./...

# The short versions, as CI runs them (with -race).
reliability:
	$(GO) test -race -count=1 -v -run '$(RELIABILITY)' ./cmd/callstream
	$(GO) test -race -count=1 ./check

# 500 kill cycles per transaction protocol, then the long matrix. Without
# -race, to spend the CPU on cycles; pods' logs are kept in
# $(CALLSTREAM_RELIABILITY_LOGDIR) when set.
reliability-long: reliability-kill9 reliability-matrix

reliability-kill9:
	CALLSTREAM_CRASH_CYCLES=500 $(GO) test -count=1 -timeout 6h -v -run 'TestCrashKill9' ./cmd/callstream

reliability-matrix:
	CALLSTREAM_RELIABILITY_LONG=1 CALLSTREAM_CRASH_CYCLES=$(LONG_CYCLES) \
		$(GO) test -count=1 -timeout 6h -v -run '$(subst TestCrashKill9|,,$(RELIABILITY))' ./cmd/callstream
