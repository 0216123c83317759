#!/usr/bin/env bash
# `make container-test`: build the image with podman and run the foundation's end-to-end
# path against the container (a loopback feed to a signed webhook). Not part of CI: it
# needs podman, root, and a few minutes the first time (the base image is built locally).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$repo/../shared/tools"
[ -f "$tools/container-setup.sh" ] || tools=/work/shared/tools
bash "$tools/container-setup.sh"
cd "$repo"
echo "== podman build"
# Docker image format: the OCI format has no HEALTHCHECK.
podman build --format docker --build-arg PYTHON_IMAGE=localhost/python-base:3.11 -t newswatch .
# The host side (feed server, webhook receiver, signature check) runs from the dev venv.
make --no-print-directory install-dev >/dev/null
echo "== end to end against the container"
.venv/bin/python -m tests.container.e2e --image localhost/newswatch:latest
