#!/usr/bin/env bash
# The provider-pace benchmarks of BENCHMARKS.md ("Pace against a real provider"): whole Batch
# API jobs through a release `sluice serve` against the fake provider as a process.
#
#     Benchmarks/faults/bench.sh [faults|kill|cpu|throughput|all]   (default: all)
#
# faults      2,000 requests; 400 ms ± 200 ms; 6,000 RPM; 5% 500s, 2% hangs of 30 s, 1% malformed
# kill        the same, with `kill -9` of the server 15 s in and a restart on the same database
# cpu         1,000 requests paced at 10 a second (600 RPM, no limit headers, so no bursts): the
#             server's CPU seconds per 1,000 calls
# throughput  50,000 requests, zero latency, no limit: items per second through the HTTP Batch API
#
# SLUICE_BIN=DIR runs the `sluice` found there instead (to measure an older build); the fake
# always comes from this checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/common.sh
sluice_and_fake_setup
scenario() { python3 Benchmarks/faults/scenario.py --bin "$run_bin" "$@"; }
what=${1:-all}
case $what in faults|all) echo "== faults"; scenario ;; esac
case $what in kill|all) echo "== kill -9 at 15 s"; scenario --kill-at 15 ;; esac
case $what in cpu|all)
    echo "== CPU while pacing 10 calls a second"
    scenario --items 1000 --poll 1 --fake-rpm 600 --rpm 600 --no-limit-headers --fault-500 0 --fault-hang 0 --fault-malformed 0 ;;
esac
case $what in throughput|all)
    echo "== zero-latency throughput"
    scenario --items 50000 --poll 0.05 --latency-ms 0 --latency-spread-ms 0 --fake-rpm 0 --rpm 0 --fault-500 0 --fault-hang 0 \
        --fault-malformed 0 ;;
esac
