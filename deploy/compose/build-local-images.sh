#!/usr/bin/env bash
# Builds local stand-ins for the published images compose.yaml runs, for machines that cannot pull from an
# image registry, each on the local Debian bookworm + JRE 17 base (deploy/container/build-base-image.sh):
#
#   localhost/deebert-standin-kafka:4.3.1       Kafka 4.3.1 (kafka_2.13 and its dependencies from Maven
#                                               Central, the broker deploy/kafka runs), configured by KAFKA_*
#                                               variables like apache/kafka (local-images/Containerfile.kafka)
#   localhost/deebert-standin-registry:2.4.2    the Apicurio Registry 2.4.2 runner deploy/schema-registry builds
#   localhost/deebert-standin-prometheus:2.42   Debian's prometheus package
#   localhost/deebert-streams:<version>-cpu     deploy/container/Dockerfile.cpu on the same base
#
# and prints the variables that point compose.yaml at them (KAFKA_IMAGE=..., see deploy/compose/smoke-test.sh).
# Installs what is missing (podman, runc, mmdebstrap with apt-get; the Maven build). An image that exists is
# kept (REBUILD_LOCAL_IMAGES=1 rebuilds the stand-ins). Usage: deploy/compose/build-local-images.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/setup.sh
source "$HERE/../lib/setup.sh"
# shellcheck source=../container/podman-lib.sh
source "$HERE/../container/podman-lib.sh"

KAFKA_STANDIN="localhost/deebert-standin-kafka:4.3.1"
REGISTRY_STANDIN="localhost/deebert-standin-registry:2.4.2"
PROMETHEUS_STANDIN="localhost/deebert-standin-prometheus:2.42"
CONTEXTS="$DEEBERT_REPO/target/compose-images"
SRC="$HERE/local-images"

# Usage: build_standin IMAGE CONTEXT_DIR CONTAINERFILE
build_standin() {
  local image="$1" context="$2" file="$3" started=$SECONDS
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/podman-build-$(basename "$file").log" timeout 900 \
    "${PODMAN[@]}" build --format docker --network host "${PODMAN_LIMITS[@]}" \
      --build-arg BASE_IMAGE="$DEEBERT_BASE_IMAGE" -f "$file" -t "$image" "$context" || return 1
  echo "stand-in: built $image in $((SECONDS - started)) s"
}

needs_build() {
  [[ "${REBUILD_LOCAL_IMAGES:-0}" == 1 ]] || ! "${PODMAN[@]}" image exists "$1"
}

ensure_podman
ensure_distribution
ensure_base_image

if needs_build "$KAFKA_STANDIN"; then
  ctx="$CONTEXTS/kafka"
  rm -rf "$ctx" && mkdir -p "$ctx/libs" "$ctx/classes"
  # The broker's runtime classpath as deploy/local resolves it (the jars deploy/kafka/start-broker.sh runs),
  # less the service's own modules and its TensorFlow, tokenizer, RocksDB, JNA and metrics jars.
  tr ':' '\n' <"$DEEBERT_REPO/deploy/local/target/classpath.txt" \
    | grep -E '\.jar$' \
    | grep -vE '/(org/tensorflow|ai/djl|org/bytedeco|org/rocksdb|net/java/dev/jna|io/micrometer|io/prometheus)/|/deebert-[^/]*\.jar$' \
    | xargs -r cp -t "$ctx/libs"
  kafka_clients="$(ls "$ctx"/libs/kafka-clients-*.jar)"
  javac -d "$ctx/classes" --release 17 -cp "$kafka_clients" "$SRC/BrokerApiVersions.java"
  cp "$SRC/kafka-entrypoint.sh" "$SRC/kafka-broker-api-versions.sh" "$DEEBERT_REPO/deploy/kafka/logback-broker.xml" "$ctx/"
  build_standin "$KAFKA_STANDIN" "$ctx" "$SRC/Containerfile.kafka"
else
  echo "stand-in: $KAFKA_STANDIN exists"
fi

if needs_build "$REGISTRY_STANDIN"; then
  ctx="$CONTEXTS/registry"
  rm -rf "$ctx" && mkdir -p "$ctx"
  mkdir -p "$ctx/registry"
  cp "$(ls "$DEEBERT_REPO"/deploy/schema-registry/target/*-runner.jar | head -1)" "$ctx/registry/registry-runner.jar"
  cp -r "$DEEBERT_REPO/deploy/schema-registry/target/lib" "$ctx/registry/lib"
  build_standin "$REGISTRY_STANDIN" "$ctx" "$SRC/Containerfile.registry"
else
  echo "stand-in: $REGISTRY_STANDIN exists"
fi

if needs_build "$PROMETHEUS_STANDIN"; then
  ctx="$CONTEXTS/prometheus"
  rm -rf "$ctx" && mkdir -p "$ctx"
  build_standin "$PROMETHEUS_STANDIN" "$ctx" "$SRC/Containerfile.prometheus"
else
  echo "stand-in: $PROMETHEUS_STANDIN exists"
fi

build_service_image

echo "point compose.yaml at them with:"
echo "  export KAFKA_IMAGE=$KAFKA_STANDIN REGISTRY_IMAGE=$REGISTRY_STANDIN PROMETHEUS_IMAGE=$PROMETHEUS_STANDIN STREAMS_IMAGE=$DEEBERT_IMAGE"
