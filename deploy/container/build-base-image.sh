#!/usr/bin/env bash
# Builds the local base image for deploy/container/Dockerfile.cpu (and the compose stand-ins) from Debian's
# packages, for machines that cannot pull from an image registry: Debian bookworm (minbase) with
# openjdk-17-jre-headless, ca-certificates, curl and passwd, made with mmdebstrap and `podman import`ed as
# localhost/deebert-base:bookworm-jre17 (~60 s, ~400 MB). Installs podman, runc and mmdebstrap when missing
# (apt-get, as root). Skipped when the image exists; REBUILD_BASE=1 rebuilds it.
#
# Usage: deploy/container/build-base-image.sh
#        podman build --build-arg BASE_IMAGE=localhost/deebert-base:bookworm-jre17 -f deploy/container/Dockerfile.cpu ...
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/setup.sh
source "$HERE/../lib/setup.sh"
# shellcheck source=podman-lib.sh
source "$HERE/podman-lib.sh"
ensure_podman
ensure_base_image
