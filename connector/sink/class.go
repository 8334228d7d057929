package sink

import (
	"crypto/tls"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Classes of the errors that end a connector, as FatalClass names them.
const (
	ClassFenced = "fenced" // a newer instance with the same transactional id took over
	ClassAuth   = "auth"   // the brokers refuse the credentials (SASL), or TLS fails on a certificate
	ClassACL    = "acl"    // an ACL denies the connector's user a topic, the cluster or its transactional id
	ClassConfig = "config" // a setting the brokers refuse, or topics that do not fit the settings
	ClassKafka  = "kafka"  // any other failure that leaves the producer unusable
	// ClassTimeout: a transaction outlasted its bounds or the coordinator's
	// transaction timeout (ErrTransactionTimedOut). The unit starts a new
	// producer and restores in the same process rather than exit.
	ClassTimeout = "timeout"
)

// Classes lists the classes of FatalClass that end a connector, for
// metrics created up front; ClassTimeout, which does not, is not one.
func Classes() []string { return []string{ClassFenced, ClassAuth, ClassACL, ClassConfig, ClassKafka} }

// FatalClass names the class of an error that ends a connector, one of
// Classes, or "" when err is neither fenced nor fatal.
func FatalClass(err error) string {
	switch {
	case IsFenced(err):
		return ClassFenced
	case !IsFatal(err):
		return ""
	case errors.Is(err, ErrTransactionTimedOut):
		return ClassTimeout
	case isAuth(err):
		return ClassAuth
	case isDenied(err):
		return ClassACL
	case isBadSetting(err):
		return ClassConfig
	}
	return ClassKafka
}

// ErrTopicMissing refuses a start without the topics while creating them
// is off.
var ErrTopicMissing = errors.New("topic is missing")

// unmendable reports whether a failure to start is one that waiting cannot
// mend, so that New returns it as a *FatalError and the caller stops
// rather than tries again: refused credentials, a denied ACL, a setting
// the brokers refuse. Anything else (no broker listening yet, a
// coordinator still loading, a timeout) may pass.
func unmendable(err error) bool {
	return fatal(err) || isAuth(err) || isDenied(err) || isBadSetting(err)
}

func isAuth(err error) bool {
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState) || errors.As(err, &verify) || errors.As(err, &alert)
}

func isDenied(err error) bool {
	return errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.GroupAuthorizationFailed)
}

func isBadSetting(err error) bool {
	for _, e := range []error{
		ErrStateNotCompacted, ErrTopicMissing, kerr.InvalidReplicationFactor, kerr.InvalidPartitions,
		kerr.InvalidConfig, kerr.PolicyViolation, kerr.InvalidTopicException, kerr.InvalidTransactionTimeout,
		kerr.InvalidReplicaAssignment, kerr.InvalidSessionTimeout, kerr.InconsistentGroupProtocol,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
