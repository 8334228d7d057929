package realkafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images of the real services; override with CALLSTREAM_KAFKA_IMAGE and
// CALLSTREAM_SCHEMA_REGISTRY_IMAGE.
const (
	defaultKafkaImage    = "apache/kafka:3.9.1"
	defaultRegistryImage = "confluentinc/cp-schema-registry:7.9.0"
)

// services are a single-node Apache Kafka in KRaft mode and a Confluent
// Schema Registry storing its schemas in it, on one Docker network.
type services struct {
	brokers     string // host:port reachable from the test
	registryURL string
}

// startServices skips the test at once, with the reason, where no Docker
// daemon answers; otherwise it starts both containers and removes them when
// the test ends.
func startServices(t *testing.T) *services {
	t.Helper()
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatalf("creating a Docker network: %v", err)
	}
	testcontainers.CleanupNetwork(t, nw)

	var s services
	kafka, err := testcontainers.Run(ctx, envOr("CALLSTREAM_KAFKA_IMAGE", defaultKafkaImage),
		network.WithNetwork([]string{"kafka"}, nw),
		testcontainers.WithExposedPorts("9092/tcp"),
		testcontainers.WithEnv(kafkaEnv),
		// The advertised address needs the mapped port, known only once
		// the container runs: the entrypoint waits for a start script that
		// the PostStarts hook writes.
		testcontainers.WithEntrypoint("sh", "-c", "while [ ! -f /tmp/start.sh ]; do sleep 0.1; done; . /tmp/start.sh"),
		testcontainers.WithLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostStarts: []testcontainers.ContainerHook{func(ctx context.Context, c testcontainers.Container) error {
				host, err := c.Host(ctx)
				if err != nil {
					return err
				}
				port, err := c.MappedPort(ctx, "9092/tcp")
				if err != nil {
					return err
				}
				s.brokers = fmt.Sprintf("%s:%s", host, port.Port())
				script := fmt.Sprintf("export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://%s,BROKER://kafka:9093\nexec /etc/kafka/docker/run\n", s.brokers)
				return c.CopyToContainer(ctx, []byte(script), "/tmp/start.sh", 0o755)
			}},
		}),
		testcontainers.WithWaitStrategy(wait.ForLog("Kafka Server started").WithStartupTimeout(2*time.Minute)),
	)
	testcontainers.CleanupContainer(t, kafka)
	if err != nil {
		t.Fatalf("starting Kafka: %v", err)
	}
	registry, err := testcontainers.Run(ctx, envOr("CALLSTREAM_SCHEMA_REGISTRY_IMAGE", defaultRegistryImage),
		network.WithNetwork([]string{"schema-registry"}, nw),
		testcontainers.WithExposedPorts("8081/tcp"),
		testcontainers.WithEnv(map[string]string{
			"SCHEMA_REGISTRY_HOST_NAME":                    "schema-registry",
			"SCHEMA_REGISTRY_LISTENERS":                    "http://0.0.0.0:8081",
			"SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS": "PLAINTEXT://kafka:9093",
		}),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/subjects").WithPort("8081/tcp").WithStartupTimeout(2*time.Minute)),
	)
	testcontainers.CleanupContainer(t, registry)
	if err != nil {
		t.Fatalf("starting the Schema Registry: %v", err)
	}
	if s.registryURL, err = registry.PortEndpoint(ctx, "8081/tcp", "http"); err != nil {
		t.Fatal(err)
	}
	return &s
}

// kafkaEnv configures one combined broker and controller: PLAINTEXT for
// clients on the host, BROKER for the registry on the Docker network.
var kafkaEnv = map[string]string{
	"KAFKA_NODE_ID":                                  "1",
	"KAFKA_PROCESS_ROLES":                            "broker,controller",
	"KAFKA_LISTENERS":                                "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094",
	"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
	"KAFKA_INTER_BROKER_LISTENER_NAME":               "BROKER",
	"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
	"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@localhost:9094",
	"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
	"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
	"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
	"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
	"KAFKA_NUM_PARTITIONS":                           "3",
}
