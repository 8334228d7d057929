// Package deploy holds no code: its tests check the deployment files of
// callstream (the Dockerfile, docker-compose.yml, deploy/compose, the
// kustomize tree under deploy/kubernetes, the Grafana dashboard and the
// Prometheus alert rules) against the callstream binary built from this
// tree.
//
// `go test ./deploy -run TestPrometheusRule -update` rewrites the generated
// deploy/kubernetes/base/prometheusrule.yaml from deploy/prometheus/rules.yaml.
package deploy
