#!/usr/bin/env bash
# The scale-out benchmarks of BENCHMARKS.md ("Scale-out on PostgreSQL"): an API process
# (`sluice serve --no-workers`) and 1, 2 and 4 `sluice worker` processes sharing one
# PostgreSQL, against the fake provider as a process (Benchmarks/faults/scenario.py).
#
#     Benchmarks/scale/bench.sh [throughput|pace|ingest|all]   (default: all)
#
# throughput  20,000 requests, zero latency, no limit: items per second with 1, 2, 4 workers
# pace        4,000 requests of 200 ms against a 3,000 RPM limit (sliding minute, enforced by
#             the fake): utilisation, the busiest minute and 429s with 1, 2, 4 workers
# ingest      1,000,000 CSV rows into PostgreSQL (COPY) and into SQLite: rows per second
#
# A throwaway PostgreSQL server is started (scripts/postgres.sh) unless SLUICE_TEST_POSTGRES
# names one; each run gets a fresh database on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product sluice >/dev/null
swift build -c release --product sluice-fake-provider >/dev/null
swift build -c release --product sluice-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
. Benchmarks/common.sh
postgres_setup
scenario() { python3 Benchmarks/faults/scenario.py --bin "$bin" --fault-500 0 --fault-hang 0 --fault-malformed 0 "$@"; }
what=${1:-all}
case $what in throughput|all)
  for workers in 1 2 4; do
    echo "== zero latency, $workers worker(s)"
    scenario --items 20000 --poll 0.05 --latency-ms 0 --latency-spread-ms 0 --fake-rpm 0 --rpm 0 --workers "$workers" \
      --database "$(fresh_database)"
  done ;;
esac
case $what in pace|all)
  for workers in 1 2 4; do
    echo "== 3,000 RPM, 200 ms, $workers worker(s)"
    scenario --items 4000 --latency-ms 200 --latency-spread-ms 0 --fake-rpm 3000 --rpm 3000 --workers "$workers" \
      --database "$(fresh_database)"
  done ;;
esac
case $what in ingest|all)
  echo "== ingest into PostgreSQL"
  "$bin/sluice-bench" ingest --rows 1000000 --database "$(fresh_database)" 2>/dev/null
  echo "== ingest into SQLite"
  "$bin/sluice-bench" ingest --rows 1000000 2>/dev/null ;;
esac
