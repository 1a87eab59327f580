#!/usr/bin/env bash
# The Debian 12 / Ubuntu packages Insight needs, installed as root or, for a user, through sudo:
#   libtorch-dev        the native backend's compute library (the addon links it)
#   libgloo-dev         Gloo's headers: the addon's c10d collectives (distributed training) compile against them
#   iproute2            `ip netns`: the distributed tests join two network namespaces by a veth pair
#   g++ make python3    node-gyp's toolchain for the addon (Node's headers come with Debian's nodejs or npm)
#   chromium            the dashboard's browser tests drive a real browser (playwright-core, no browser download)
#   python3-onnx        the ONNX project's own checker validates exported models in the tests (onnx.checker)
#   postgresql          `insight tune`'s shared study storage; the tests start a throwaway server (initdb + pg_ctl)
#   prometheus          its `promtool` checks the shipped alert rules in the tests (deploy/prometheus)
# Used by the README's quick start and by CI, so both install the same list.
set -euo pipefail
packages=(libtorch-dev libgloo-dev iproute2 g++ make python3 chromium python3-onnx postgresql prometheus)
if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo > /dev/null; then
  as_root=(sudo)
else
  echo "Installing system packages needs root: run this script as root, or install sudo. Received: user=$(id -un), no sudo." >&2
  exit 1
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" > /dev/null
echo "Installed: ${packages[*]}"
