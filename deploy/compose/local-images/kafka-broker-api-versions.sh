#!/bin/bash
# The Kafka stand-in's version of the tool compose.yaml's healthcheck runs: exit 0 once the broker at
# --bootstrap-server answers a client (BrokerApiVersions: describeCluster with a 15 s timeout), else 1.
set -euo pipefail
exec java -Xmx64m -cp "/opt/kafka/classes:/opt/kafka/libs/*" BrokerApiVersions "$@"
