package doctor

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/sink"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnSuffix is added to --transactional-id for kafka.transactions:
// initialising the running connector's own id would fence it.
const txnSuffix = ".doctor"

// kafkaState is what the kafka.* checks use: the settings, and the client
// options run uses (seed brokers, TLS, SASL).
type kafkaState struct {
	cfg  connector.SourceConfig
	opts []kgo.Opt
}

func newKafkaState(cfg connector.SourceConfig) *kafkaState {
	return &kafkaState{cfg: cfg, opts: append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.RetryTimeout(checkBudget)}, cfg.KafkaOpts...)}
}

// kafkaChecks are the kafka.* checks, in order. They create no topic and
// produce nothing.
var kafkaChecks = []check[kafkaState]{
	{KafkaReach, nil, func(ctx context.Context, s *kafkaState) (Result, bool) {
		r := kafkaReach(ctx, s.cfg.Brokers, s.opts)
		return r, r.OK
	}},
	{KafkaTransactions, []string{KafkaReach}, func(ctx context.Context, s *kafkaState) (Result, bool) {
		r := kafkaTransactions(ctx, s.cfg, s.opts)
		return r, r.OK
	}},
	{KafkaTopics, []string{KafkaReach}, func(ctx context.Context, s *kafkaState) (Result, bool) {
		r := kafkaTopics(ctx, s.cfg, s.opts)
		return r, r.OK
	}},
}

// kafkaReach dials the seed brokers itself, so that a failure names its
// step, and then asks for the cluster's metadata over TLS and SASL as
// configured.
func kafkaReach(ctx context.Context, seeds []string, opts []kgo.Opt) Result {
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	var dialErrs []string
	for _, b := range seeds {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", b)
		if err != nil {
			dialErrs = append(dialErrs, err.Error())
			continue
		}
		conn.Close()
	}
	if len(dialErrs) == len(seeds) {
		return fail(KafkaReach, "TCP: no seed broker accepts a connection: "+strings.Join(dialErrs, "; "),
			"check --brokers: HOST:PORT of a listener this host can reach (the advertised listener, not a container's internal one), and that no firewall stops it")
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fail(KafkaReach, "creating the client: "+err.Error(), "check the Kafka settings named in the error")
	}
	defer cl.Close()
	m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return fail(KafkaReach, "the brokers accept connections but do not answer: "+err.Error(), kafkaHint(err))
	}
	ids := make([]string, 0, len(m.Brokers))
	for _, b := range m.Brokers {
		ids = append(ids, fmt.Sprint(b.NodeID))
	}
	detail := fmt.Sprintf("%d broker(s) answer (ids %s), controller %d", len(m.Brokers), strings.Join(ids, ","), m.Controller)
	if len(dialErrs) > 0 {
		detail += "; unreachable seeds: " + strings.Join(dialErrs, "; ")
	}
	return pass(KafkaReach, detail)
}

// kafkaHint says what to do about a Kafka error by its class.
func kafkaHint(err error) string {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		header   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) || errors.Is(err, kerr.UnsupportedSaslMechanism):
		return "the brokers refuse the SASL login: check --sasl-mechanism, --sasl-username and the password (CALLSTREAM_SASL_PASSWORD or --sasl-password-file)"
	case errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostname):
		return "the brokers' certificate is not trusted: give its CA with --tls-ca-file, or the name it carries with --tls-server-name"
	case errors.As(err, &header):
		return "the listener does not speak TLS: drop --tls and the --tls-*-file settings, or use the brokers' TLS listener"
	case errors.Is(err, kerr.ClusterAuthorizationFailed) || errors.Is(err, kerr.TopicAuthorizationFailed):
		return "the principal lacks an ACL: grant it DESCRIBE on the cluster and the topics"
	}
	return "check that --tls and --sasl-* match the listener at --brokers (a TLS or SASL listener closes a plain connection without a word)"
}

// kafkaTransactions checks --transaction-timeout against the brokers'
// transaction.max.timeout.ms where it can be read, then initialises a
// transactional producer under <transactional-id>.doctor with it, never
// the running instance's id, and closes it without producing: nothing is
// fenced and nothing written.
func kafkaTransactions(ctx context.Context, cfg connector.SourceConfig, opts []kgo.Opt) Result {
	txnID := cfg.TransactionalID
	id := txnID + txnSuffix
	ctx, cancel := context.WithTimeout(ctx, 2*checkBudget)
	defer cancel()
	timeout := cmp.Or(cfg.TransactionTimeout, sink.DefaultTransactionTimeout)
	limits, _ := sink.DialBrokerLimits(ctx, opts)
	if err := limits.CheckTransactionTimeout(timeout); err != nil {
		return fail(KafkaTransactions, err.Error(), fmt.Sprintf("set --transaction-timeout to %s or less, or raise transaction.max.timeout.ms on the brokers", limits.TransactionMaxTimeout))
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.TransactionalID(id), kgo.TransactionTimeout(timeout))...)
	if err != nil {
		return fail(KafkaTransactions, "creating the client: "+err.Error(), "check the Kafka settings named in the error")
	}
	defer cl.Close()
	_, _, err = cl.ProducerID(ctx)
	if err != nil {
		hint := "the brokers' transaction coordinator did not answer: check that transactions are enabled and that " +
			"transaction.state.log.replication.factor and min.insync.replicas fit the number of brokers"
		if errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed) {
			hint = fmt.Sprintf("grant the principal WRITE and DESCRIBE on TransactionalId %q (a PREFIXED ACL covers %q too) and IDEMPOTENT_WRITE on the cluster", txnID, id)
		}
		return fail(KafkaTransactions, fmt.Sprintf("a transactional producer %q cannot be initialised: %v", id, err), hint)
	}
	return pass(KafkaTransactions, fmt.Sprintf("a transactional producer initialised as %q (transaction timeout %s) and closed without a transaction; %q is not fenced", id, timeout, txnID))
}

// kafkaTopics reports each topic's partitions and replicas, validates the
// creation of missing ones without creating them, and checks that the
// state topic is compacted.
func kafkaTopics(ctx context.Context, cfg connector.SourceConfig, opts []kgo.Opt) Result {
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fail(KafkaTopics, "creating the client: "+err.Error(), "check the Kafka settings named in the error")
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	limits, _ := sink.ReadBrokerLimits(ctx, adm)
	rf, _ := sink.Replication(cfg.ReplicationFactor, limits.Brokers)
	specs := sink.Specs(cfg.Topics, cfg.Partitions, cfg.TopicConfigs)
	for i := range specs {
		sink.SafeConfigs(&specs[i], rf)
	}
	names := make([]string, len(specs))
	for i, spec := range specs {
		names[i] = spec.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fail(KafkaTopics, "listing topics: "+err.Error(), kafkaHint(err))
	}
	var found, creatable, hints []string
	for _, spec := range specs {
		name := spec.Name
		d, ok := details[name]
		if ok && d.Err == nil {
			found = append(found, fmt.Sprintf("%s: %d partition(s) × %d replica(s)", name, len(d.Partitions), d.Partitions.NumReplicas()))
			continue
		}
		if ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			found = append(found, fmt.Sprintf("%s: %v", name, d.Err))
			hints = append(hints, fmt.Sprintf("grant the principal DESCRIBE, READ and WRITE on topic %q", name))
			continue
		}
		f, h := validateCreate(ctx, adm, cfg, spec, rf)
		switch {
		case h != "":
			found, hints = append(found, f), append(hints, h)
		default:
			creatable = append(creatable, name)
		}
	}
	if len(creatable) > 0 {
		found = append(found, "missing but may be created (validated, none created): "+strings.Join(creatable, ", "))
	}
	for _, spec := range specs {
		if d, ok := details[spec.Name]; ok && d.Err == nil {
			f, h := audited(ctx, adm, spec, d.Partitions.NumReplicas(), limits.Brokers)
			found = append(found, f...)
			hints = append(hints, h...)
		}
	}
	detail := strings.Join(found, "; ")
	if len(hints) > 0 {
		return fail(KafkaTopics, detail, strings.Join(hints, "; "))
	}
	return pass(KafkaTopics, detail)
}

// validateCreate asks the brokers whether a missing topic may be created as
// run would create it, with validate_only: nothing is created.
func validateCreate(ctx context.Context, adm *kadm.Client, cfg connector.SourceConfig, spec sink.TopicSpec, rf int16) (found, hint string) {
	name := spec.Name
	if !cfg.CreateTopics {
		return name + ": missing", fmt.Sprintf("create topic %q, or run with --create-topics", name)
	}
	resp, err := adm.ValidateCreateTopics(ctx, spec.Partitions, rf, spec.Configs, name)
	if err == nil {
		err = resp[name].Err
	}
	if err != nil {
		return fmt.Sprintf("%s: missing, and may not be created: %v", name, err),
			fmt.Sprintf("create topic %q yourself, or grant the principal CREATE on it; check --partitions, --replication-factor and --topic-config against the cluster", name)
	}
	return "", ""
}

// audited reports an existing topic's unsafe settings (sink.Audit) with
// their fixes: failures, but for warnings, which only the detail tells.
func audited(ctx context.Context, adm *kadm.Client, spec sink.TopicSpec, replicas, brokers int) (found, hints []string) {
	rcs, err := adm.DescribeTopicConfigs(ctx, spec.Name)
	var rc kadm.ResourceConfig
	if err == nil {
		rc, err = rcs.On(spec.Name, nil)
	}
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return []string{fmt.Sprintf("%s: configs unknown: %v", spec.Name, err)},
			[]string{fmt.Sprintf("grant the principal DESCRIBE_CONFIGS on topic %q", spec.Name)}
	}
	findings := sink.Audit(spec, replicas, brokers, rc.Configs)
	if len(findings) == 0 && spec.Compacted {
		found = append(found, spec.Name+": compacted")
	}
	for _, f := range findings {
		if f.Warning {
			found = append(found, fmt.Sprintf("%s: warning: %s (fix: %s)", f.Topic, f.Problem, f.Fix))
			continue
		}
		found = append(found, fmt.Sprintf("%s: UNSAFE: %s", f.Topic, f.Problem))
		hints = append(hints, f.Fix)
	}
	return found, hints
}

// registryState is what the registry check uses.
type registryState struct {
	c   *registry.Client
	cfg connector.SourceConfig
}

// registryChecks are the checks of the Schema Registry, run with
// --schema-registry-url.
var registryChecks = []check[registryState]{
	{Registry, nil, func(ctx context.Context, s *registryState) (Result, bool) {
		r := checkSchemaRegistry(ctx, s.c, s.cfg)
		return r, r.OK
	}},
}

// checkSchemaRegistry checks that the registry answers, takes the
// credentials and would accept the embedded schemas under the topics'
// subjects: compatible with their latest versions. It registers nothing.
func checkSchemaRegistry(ctx context.Context, c *registry.Client, cfg connector.SourceConfig) Result {
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	t := cfg.Topics
	results, incompatible, err := c.CheckTopics(ctx, t.DLQ, t.Calls, t.Failed, t.Latest)
	switch {
	case errors.Is(err, registry.ErrUnauthorized):
		return fail(Registry, err.Error(),
			"check --schema-registry-username and the password (CALLSTREAM_SCHEMA_REGISTRY_PASSWORD or --schema-registry-password-file), or --schema-registry-token-file")
	case err != nil:
		return fail(Registry, "the registry does not answer: "+err.Error(),
			"check --schema-registry-url, and --schema-registry-ca-file if it uses a private CA")
	}
	var found []string
	for _, r := range results {
		switch {
		case r.Registered:
			found = append(found, fmt.Sprintf("%s holds the schema (id %d)", r.Subject, r.ID))
		case r.Latest == 0:
			found = append(found, r.Subject+" is new")
		default:
			found = append(found, fmt.Sprintf("%s version %d", r.Subject, r.Latest))
		}
	}
	detail := fmt.Sprintf("reachable; %s (rule %s)", strings.Join(found, ", "), c.Compatibility())
	if len(incompatible) > 0 {
		msgs := make([]string, len(incompatible))
		for i, e := range incompatible {
			msgs[i] = e.Error()
		}
		return fail(Registry, detail+": "+strings.Join(msgs, "; "),
			"the subject holds a schema callstream's cannot follow under --schema-compatibility: point the topics (--topic-*) at new subjects, "+
				"or have the registry's owner delete the subject's versions or relax its rule; callstream registers nothing until this passes")
	}
	return pass(Registry, detail)
}
