package settings

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka are the Kafka security and Schema Registry settings that run and
// tail share.
type Kafka struct {
	tls                                security.TLS
	saslMechanism, saslUser            string
	saslPassword, saslPasswordFile     string
	saslTokenFile                      string
	registryURL, registryUser          string
	registryPassword, registryPassFile string
	registryTokenFile                  string
	registryTLS                        security.TLS
}

// Register defines the flags on fs.
func (k *Kafka) Register(fs *flag.FlagSet) {
	fs.BoolVar(&k.tls.Enabled, "tls", false, "dial Kafka with TLS (implied by any --tls-*-file)")
	fs.StringVar(&k.tls.CAFile, "tls-ca-file", "", "PEM CA bundle that Kafka's certificates are checked against (default: system roots)")
	fs.StringVar(&k.tls.CertFile, "tls-cert-file", "", "PEM client certificate for Kafka mutual TLS")
	fs.StringVar(&k.tls.KeyFile, "tls-key-file", "", "PEM client key for Kafka mutual TLS")
	fs.StringVar(&k.tls.ServerName, "tls-server-name", "", "name checked in Kafka's certificates (default: the broker's host)")
	fs.StringVar(&k.saslMechanism, "sasl-mechanism", "", "Kafka SASL mechanism: "+strings.Join(security.Mechanisms, ", ")+" (empty: none)")
	fs.StringVar(&k.saslUser, "sasl-username", "", "Kafka SASL user name (PLAIN, SCRAM)")
	fs.StringVar(&k.saslPassword, "sasl-password", "", "Kafka SASL password (prefer CALLSTREAM_SASL_PASSWORD or --sasl-password-file)")
	fs.StringVar(&k.saslPasswordFile, "sasl-password-file", "", "file holding the Kafka SASL password")
	fs.StringVar(&k.saslTokenFile, "sasl-token-file", "", "file holding the OAUTHBEARER token, re-read when it changes")
	fs.StringVar(&k.registryURL, "schema-registry-url", "", "Schema Registry URL: values framed 00 + schema id; empty: Avro single-object encoding")
	fs.StringVar(&k.registryUser, "schema-registry-username", "", "Schema Registry basic-auth user")
	fs.StringVar(&k.registryPassword, "schema-registry-password", "", "Schema Registry basic-auth password (prefer CALLSTREAM_SCHEMA_REGISTRY_PASSWORD or the file)")
	fs.StringVar(&k.registryPassFile, "schema-registry-password-file", "", "file holding the Schema Registry password")
	fs.StringVar(&k.registryTokenFile, "schema-registry-token-file", "", "file holding a Schema Registry bearer token, re-read when it changes")
	fs.StringVar(&k.registryTLS.CAFile, "schema-registry-ca-file", "", "PEM CA bundle for the Schema Registry (default: system roots)")
	fs.StringVar(&k.registryTLS.CertFile, "schema-registry-cert-file", "", "PEM client certificate for the Schema Registry")
	fs.StringVar(&k.registryTLS.KeyFile, "schema-registry-key-file", "", "PEM client key for the Schema Registry")
}

// ClientOpts reads the secret files and returns the Kafka client options
// of the security settings. Errors name the setting, never a secret.
func (k *Kafka) ClientOpts() ([]kgo.Opt, error) {
	pw, err := security.Password(secret.String(k.saslPassword), k.saslPasswordFile, "--sasl-password")
	if err != nil {
		return nil, Usagef("%v", err)
	}
	sec := security.Kafka{TLS: k.tls, SASL: security.SASL{
		Mechanism: strings.ToUpper(k.saslMechanism), Username: k.saslUser, Password: pw, TokenFile: k.saslTokenFile,
	}}
	if err := sec.SASL.Validate(); err != nil {
		return nil, Usagef("--sasl-mechanism: %v", err)
	}
	opts, err := sec.Opts()
	if err != nil {
		return nil, Usagef("--tls-ca-file, --tls-cert-file, --tls-key-file: %v", err)
	}
	return opts, nil
}

// RegistryClient returns the Schema Registry client, or nil without
// --schema-registry-url. It reads the secret files; it dials nothing.
func (k *Kafka) RegistryClient(compat registry.Compatibility) (*registry.Client, error) {
	if k.registryURL == "" {
		return nil, nil
	}
	pw, err := security.Password(secret.String(k.registryPassword), k.registryPassFile, "--schema-registry-password")
	if err != nil {
		return nil, Usagef("%v", err)
	}
	c, err := registry.New(registry.Config{
		URL: k.registryURL, Username: k.registryUser, Password: pw, TokenFile: k.registryTokenFile,
		TLS: k.registryTLS, Compatibility: compat,
	})
	if err != nil {
		return nil, Usagef("--schema-registry-url: %v", err)
	}
	return c, nil
}

// produceFlags are run's settings of the producer and of the topics it
// creates.
type produceFlags struct {
	compression   string
	linger        time.Duration
	batchMaxBytes int
	topicConfigs  topicConfigFlag
	compatibility string
}

func (p *produceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.compression, "compression", "snappy", "producer batch compression: snappy, zstd, lz4, gzip or none (zstd: about 30% fewer bytes on the wire for about 5 times the CPU; see docs/performance.md)")
	fs.DurationVar(&p.linger, "linger", 10*time.Millisecond, "how long a partition's batch waits for more records")
	fs.IntVar(&p.batchMaxBytes, "batch-max-bytes", 0, "largest record batch sent, in bytes, below the topics' limits (0: each topic's max.message.bytes, or the broker's message.max.bytes, learnt at start); a call whose event exceeds it is a dead letter, too_large")
	fs.Var(&p.topicConfigs, "topic-config", "KEY=VALUE config of created topics; repeat, or a YAML map (the state topic stays compacted)")
	fs.StringVar(&p.compatibility, "schema-compatibility", string(registry.Backward),
		"rule checked before registering a schema: BACKWARD, FORWARD, FULL (each also _TRANSITIVE) or NONE")
}

// compressionCodecs are the values of --compression.
var compressionCodecs = map[string]kgo.CompressionCodec{
	"zstd": kgo.ZstdCompression(), "lz4": kgo.Lz4Compression(), "snappy": kgo.SnappyCompression(),
	"gzip": kgo.GzipCompression(), "none": kgo.NoCompression(),
}

// producerOpts returns the producer options of the flags. Acks stay all:
// the sink requires them, as transactions do.
func (p *produceFlags) producerOpts() ([]kgo.Opt, error) {
	codec, ok := compressionCodecs[strings.ToLower(p.compression)]
	if !ok {
		return nil, InvalidValue("compression", p.compression, "want zstd, lz4, snappy, gzip or none")
	}
	if p.linger < 0 {
		return nil, InvalidValue("linger", p.linger.String(), "want a duration ≥ 0")
	}
	if p.batchMaxBytes != 0 && (p.batchMaxBytes < 1<<10 || p.batchMaxBytes > sink.MaxBatchBytes) {
		return nil, InvalidValue("batch-max-bytes", strconv.Itoa(p.batchMaxBytes), fmt.Sprintf("want 0 (the topics' limits) or 1024..%d", sink.MaxBatchBytes))
	}
	return []kgo.Opt{
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(p.linger),
	}, nil
}

// applyKafka sets the security, producer and topic settings on cfg and
// builds the registry client, which the command uses before the connector
// starts.
func (f *Run) applyKafka(cfg *connector.SourceConfig) error {
	var err error
	if cfg.KafkaOpts, err = f.kafka.ClientOpts(); err != nil {
		return err
	}
	if cfg.ProducerOpts, err = f.produce.producerOpts(); err != nil {
		return err
	}
	cfg.TopicConfigs = f.produce.topicConfigs
	cfg.BatchMaxBytes = f.produce.batchMaxBytes
	compat, err := registry.ParseCompatibility(f.produce.compatibility)
	if err != nil {
		return InvalidValue("schema-compatibility", f.produce.compatibility, err.Error())
	}
	f.Registry, err = f.kafka.RegistryClient(compat)
	return err
}

// topicConfigFlag is --topic-config: KEY=VALUE, repeatable, or several
// pairs separated by commas (as the environment and a YAML map give
// them). A piece without "=" continues the previous value, so that
// cleanup.policy=compact,delete reads as one pair.
type topicConfigFlag map[string]string

func (m *topicConfigFlag) String() string {
	keys := slices.Sorted(maps.Keys(*m))
	for i, k := range keys {
		keys[i] = k + "=" + (*m)[k]
	}
	return strings.Join(keys, ",")
}

func (m *topicConfigFlag) Set(v string) error {
	if *m == nil {
		*m = make(topicConfigFlag)
	}
	last := ""
	for _, piece := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(piece, "=")
		switch {
		case ok && strings.TrimSpace(k) != "":
			last = strings.TrimSpace(k)
			(*m)[last] = strings.TrimSpace(val)
		case !ok && last != "":
			(*m)[last] += "," + strings.TrimSpace(piece)
		default:
			return fmt.Errorf("want KEY=VALUE pairs such as retention.ms=604800000, got %q", piece)
		}
	}
	return nil
}
