#!/usr/bin/env bash
# Shared steps of deploy/container/smoke-test.sh, deploy/container/build-base-image.sh and the compose
# scripts (deploy/compose/): podman with the flags these machines need, the Debian base image built from
# Debian's packages, the distribution, the service image. Source it after deploy/lib/setup.sh.
#
# Every step is idempotent (skips work already done) and bounded. Environment (all optional):
#   PODMAN_GLOBAL_FLAGS  flags before every podman subcommand (default: --runtime runc --cgroup-manager cgroupfs;
#                        crun and systemd cgroups fail in the sandboxes this was written on)
#   PODMAN_LIMITS        rlimits for build and run (default: nofile and nproc lowered to 1024; raising fails there)
#   DEEBERT_BASE_IMAGE   the local base image (default localhost/deebert-base:bookworm-jre17)
#   DEEBERT_IMAGE        the service image built from Dockerfile.cpu (default localhost/deebert-streams:<version>-cpu)

: "${DEEBERT_REPO:?source deploy/lib/setup.sh first}"
read -r -a PODMAN <<<"podman ${PODMAN_GLOBAL_FLAGS:---runtime runc --cgroup-manager cgroupfs}"
read -r -a PODMAN_LIMITS <<<"${PODMAN_LIMITS:---ulimit nofile=1024:1024 --ulimit nproc=1024:1024}"
DEEBERT_BASE_IMAGE="${DEEBERT_BASE_IMAGE:-localhost/deebert-base:bookworm-jre17}"
DEEBERT_VERSION="$(tr -d '\n' <"$DEEBERT_REPO/pom.xml" \
  | grep -oP '<artifactId>deebert-streams-parent</artifactId>\s*<version>\K[^<]+')"
DEEBERT_IMAGE="${DEEBERT_IMAGE:-localhost/deebert-streams:${DEEBERT_VERSION}-cpu}"
DEEBERT_DIST="$DEEBERT_REPO/streams-app/target/deebert-streams-${DEEBERT_VERSION}-dist.tar.gz"

# Installs the Debian packages whose commands are missing. Usage: ensure_commands CMD:PACKAGE ...
ensure_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing commands; install these Debian packages first: ${missing[*]}" >&2
    return 1
  fi
  echo "apt: installing ${missing[*]}"
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/apt-podman.log" apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive _deebert_logged "$DEEBERT_SETUP_LOG_DIR/apt-podman.log" \
    apt-get install -y -qq "${missing[@]}"
}

# Installed with their recommended packages, as verified on these machines.
# podman, runc (the runtime these machines need), mmdebstrap (the base image), netavark and aardvark-dns
# (container networks with service names, for compose), curl.
ensure_podman() {
  ensure_commands podman:podman runc:runc mmdebstrap:mmdebstrap curl:curl \
    /usr/lib/podman/netavark:netavark /usr/lib/podman/aardvark-dns:aardvark-dns
}

# The base image: Debian bookworm (minbase) with a JRE 17, bash, curl and useradd, from Debian's packages
# with mmdebstrap, imported with `podman import`. Skipped when the image exists (REBUILD_BASE=1 rebuilds).
ensure_base_image() {
  if [[ "${REBUILD_BASE:-0}" != 1 ]] && "${PODMAN[@]}" image exists "$DEEBERT_BASE_IMAGE"; then
    echo "base image: $DEEBERT_BASE_IMAGE exists"
    return 0
  fi
  local tmp rootfs started=$SECONDS
  tmp="$(mktemp -d)"
  rootfs="$tmp/rootfs.tar"
  if ! _deebert_logged "$DEEBERT_SETUP_LOG_DIR/mmdebstrap.log" timeout 900 mmdebstrap --variant=minbase \
      --include=openjdk-17-jre-headless,ca-certificates,curl,passwd bookworm "$rootfs"; then
    rm -rf "$tmp"
    return 1
  fi
  # CMD and ENV: what an image from a registry would carry; the service's Dockerfile sets its own.
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/podman-import.log" "${PODMAN[@]}" import \
    --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$rootfs" "$DEEBERT_BASE_IMAGE" || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
  echo "base image: built $DEEBERT_BASE_IMAGE with mmdebstrap (bookworm, openjdk-17-jre-headless) in $((SECONDS - started)) s"
}

# The distribution tar.gz (and the registry runner and deploy/local's classpath the test broker uses):
# built with Maven when missing or older than a source file of the modules it holds.
ensure_distribution() {
  local stale=""
  if [[ -s "$DEEBERT_DIST" ]]; then
    stale="$(find "$DEEBERT_REPO/schemas/src" "$DEEBERT_REPO/streams-app/src" "$DEEBERT_REPO/streams-app/pom.xml" \
      "$DEEBERT_REPO/pom.xml" -newer "$DEEBERT_DIST" -type f -print -quit)"
  fi
  if [[ -s "$DEEBERT_DIST" && -z "$stale" \
        && -s "$DEEBERT_REPO/deploy/local/target/classpath.txt" && -s "$DEEBERT_REPO/streams-app/target/classpath.txt" ]] \
     && ls "$DEEBERT_REPO"/deploy/schema-registry/target/*-runner.jar >/dev/null 2>&1; then
    echo "distribution: ${DEEBERT_DIST#"$DEEBERT_REPO"/} is up to date"
    return 0
  fi
  local started=$SECONDS
  (cd "$DEEBERT_REPO" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/maven-package.log" \
    mvn -B -q package -DskipTests -pl schemas,deploy/schema-registry,streams-app,deploy/local) || return 1
  echo "distribution: built ${DEEBERT_DIST#"$DEEBERT_REPO"/} (mvn package -DskipTests) in $((SECONDS - started)) s"
}

# Builds Dockerfile.cpu on the local base into $DEEBERT_IMAGE (docker format: keeps the HEALTHCHECK).
build_service_image() {
  local started=$SECONDS
  (cd "$DEEBERT_REPO" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/podman-build-cpu.log" timeout 900 \
    "${PODMAN[@]}" build --format docker --network host "${PODMAN_LIMITS[@]}" \
      -f deploy/container/Dockerfile.cpu --ignorefile deploy/container/Dockerfile.cpu.dockerignore \
      --build-arg BASE_IMAGE="$DEEBERT_BASE_IMAGE" --build-arg DIST_VERSION="$DEEBERT_VERSION" \
      -t "$DEEBERT_IMAGE" .) || return 1
  echo "image: built $DEEBERT_IMAGE from deploy/container/Dockerfile.cpu on $DEEBERT_BASE_IMAGE in $((SECONDS - started)) s ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$DEEBERT_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# True when something listens on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the HTTP status of a GET (000 when nothing answers). Usage: http_status URL
http_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true
}
