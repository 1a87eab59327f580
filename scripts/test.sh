#!/usr/bin/env bash
# The whole test suite: tfjs-core's conformance specs on the torch backend, then every unit and integration
# test of both packages under node's test runner (whose closing lines give the pass/fail counts).
#   scripts/test.sh            everything
#   scripts/test.sh insight    only packages/insight's tests
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
# Tests that read a dataset archive extract it into $INSIGHT_HOME/datasets: keep that out of the user's home.
if [[ -z "${INSIGHT_HOME:-}" ]]; then
  INSIGHT_HOME="$(mktemp -d)"
  export INSIGHT_HOME
  trap 'rm -rf "$INSIGHT_HOME"' EXIT
fi
if [[ "${1:-}" == "insight" ]]; then
  files=(packages/insight/test/**/*.test.ts)
else
  # tfjs-core's specs and the backend's Keras-level tests run with tfjs's test-mode leak checks on (IS_TEST).
  npm run --silent conformance -w @insight/tfjs-backend-torch
  # test/: the packages as published (npm pack, install into a fresh project, train and predict).
  files=(packages/tfjs-backend-torch/test/**/*.test.ts packages/insight/test/**/*.test.ts test/*.test.ts)
fi
node --conditions=source --import tsx --test --test-concurrency=1 "${files[@]}"
