#!/usr/bin/env bash
# Multi-tenant benchmarks (BENCHMARKS.md, "Safe with many tenants"), against a release `sluice serve`:
#
#     Benchmarks/tenants/bench.sh bombs|load
#
# bombs  each hostile input of issue 20 sent to a fresh server (SQLite, auth on): the server's
#        answer and its peak RSS (VmHWM) after it — the 1.5 MB workbook that unzips to 1 GiB,
#        a 40 MB CSV of one record, 40,000 nested template sections, two 60 MiB message batches
#        at once, a form of 400 MiB of small fields.
# load   one server, two users: user A runs the heaviest requests at once (two workbook-bomb
#        previews, the 40 MB record, two 60 MiB message batches, a 20,000-row job and its XLSX
#        export, twice) while user B uploads a tiny CSV every 100 ms and /healthz is asked every
#        10 ms: median, p99 and max of each.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-bombs}
. Benchmarks/common.sh
release_setup sluice
python3 Benchmarks/tenants/tenants.py "$what" "$bin/sluice" "$work"
