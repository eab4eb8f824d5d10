#!/usr/bin/env bash
# Runs the package's tests through colcon and ends with "N passed, N failed[, N skipped]".
# Exits non-zero when a test fails, a test file fails to import, or no test ran: colcon test
# alone exits 0 on failures, so its own result summary is read as well.
set -euo pipefail
bin=${1:-.venv/bin}

status=0
"$bin/colcon" test --return-code-on-test-failure --event-handlers console_direct+ || status=$?

results=$("$bin/colcon" test-result --verbose --all || true)
echo "$results"
summary=$(grep -E '^Summary:' <<<"$results" | tail -n 1 || true)
# Summary: 12 tests, 0 errors, 1 failure, 2 skipped
read -r total errors failures skipped < <(
  sed -E 's/^Summary: ([0-9]+) tests?, ([0-9]+) errors?, ([0-9]+) failures?, ([0-9]+) skipped.*/\1 \2 \3 \4/' <<<"$summary")
if ! [[ ${total:-} =~ ^[0-9]+$ ]]; then
  echo "could not read colcon's test summary: '${summary}'" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
failed=$((errors + failures))
passed=$((total - failed - skipped))
line="$passed passed, $failed failed"
(( skipped > 0 )) && line+=", $skipped skipped"
echo "$line"

if (( status != 0 || failed > 0 )); then exit 1; fi
if (( passed == 0 )); then echo "no test ran" >&2; exit 1; fi
