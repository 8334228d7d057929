package main

import (
	"runtime"
	"runtime/debug"

	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/plugin/kprom"
)

// kafkaMetrics exports the Kafka producer's own metrics on reg under the
// callstream_ prefix: connections, bytes written and read per broker,
// produced bytes and records per topic, and the end-to-end request latency
// as a histogram (kprom enables none by default), the dashboard's produce
// latency. Labels stay bounded: broker node ids and topic names.
func kafkaMetrics(reg *prometheus.Registry) *kprom.Metrics {
	return kprom.NewMetrics(metrics.Namespace,
		kprom.Registry(reg),
		kprom.WithClientLabel(),
		kprom.Histograms(kprom.RequestDurationE2E, kprom.WriteWait),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Records, kprom.UncompressedBytes, kprom.CompressedBytes),
	)
}

// setBuildInfo sets callstream_build_info: the version and commit given at
// link time, else the VCS revision Go recorded in the binary.
func setBuildInfo(m *metrics.Metrics) {
	m.BuildInfo.WithLabelValues(version, revision(), runtime.Version()).Set(1)
}

func revision() string {
	if commit != "" && commit != "none" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}
