#!/usr/bin/env bash
# Runs every suite, even after one fails, then prints one summary and fails if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 HF_HUB_OFFLINE=1
results=var/test-results
rm -rf "$results" && mkdir -p "$results"
failed=()
uncounted=0  # failures that no JUnit report counts

step() {  # step NAME COMMAND...: run one suite and remember a failure
  local name="$1"; shift
  echo "=== $name"
  "$@"
  local code=$?
  if [ "$code" -ne 0 ]; then
    failed+=("$name (exit $code)")
    # pytest's 1 is failed tests, already in its report; anything else (5: no test
    # ran, 2: interrupted, a non-pytest step) is a failure of its own.
    if [[ "$1" != pytest-* ]] || [ "$code" -ne 1 ]; then uncounted=$((uncounted + 1)); fi
  fi
}

pytest-rasa() { .venv/rasa/bin/python -m pytest "$@"; }
pytest-gateway() { .venv/gateway/bin/python -m pytest "$@"; }

step "rasa data validate" .venv/rasa/bin/rasa data validate --domain bot/domain --data data \
  --config config.yml --fail-on-warnings
step "assistant unit tests" pytest-rasa tests/bot -q \
  --junitxml="$results/bot.xml"
step "story tests" .venv/rasa/bin/rasa test core --model models/baton.tar.gz \
  --stories tests/stories --fail-on-prediction-errors --out "$results/stories"
step "gateway, end-to-end and browser tests" pytest-gateway tests/gateway \
  tests/e2e tests/browser -q --junitxml="$results/gateway.xml"

.venv/gateway/bin/python scripts/test_summary.py "$results"/*.xml "$uncounted"
if [ "${#failed[@]}" -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
