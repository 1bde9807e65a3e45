#!/usr/bin/env bash
# How soon a second user is served while a first user's large job runs (BENCHMARKS.md, "A lean
# engine"): a release `sluice serve` (SQLite, auth on, 64 call slots) against the fake provider
# limited to each RPM given, 400 ± 200 ms a call. User A's 3,000-row job runs for 10 s, then user
# B submits 20 rows; B's first and last results after its 202 are printed.
#
#     Benchmarks/fairness/bench.sh [--workers N] [RPM ...]        (default: 60 120 600 10000)
#
# --workers N runs the API alone (`serve --no-workers`) and N `sluice worker` processes on a
# throwaway PostgreSQL (scripts/postgres.sh, or the server $SLUICE_TEST_POSTGRES names).
#
# SLUICE_BIN=DIR runs the `sluice` found there instead (to measure an older build).
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/common.sh
sluice_and_fake_setup
workers=()
if [ "${1:-}" = --workers ]; then
  workers=(--workers "$2")
  shift 2
  postgres_setup
fi
for rpm in "${@:-60 120 600 10000}"; do
  for r in $rpm; do
    database=()
    [ ${#workers[@]} -gt 0 ] && database=(--database "$(fresh_database)")
    TMPDIR_FAIRNESS=$(mktemp -d) python3 Benchmarks/fairness/fairness.py --bin "$run_bin" --rpm "$r" "${workers[@]}" "${database[@]}"
  done
done
