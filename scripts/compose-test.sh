#!/usr/bin/env bash
# The deployment test: builds the images (deploy/build-image.sh --postgres), starts
# deploy/compose.yaml with podman-compose exactly as the README says, creates a key in the API
# container, uploads a job to http://127.0.0.1:8080, waits for it to complete on the two
# workers, checks its results, and stops it all with `down` (volumes too). Installs podman,
# runc, debootstrap (Debian) and podman-compose (PyPI) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for command in podman runc debootstrap curl; do command -v "$command" > /dev/null || need+=("$command"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  # With podman's recommended packages: netavark and aardvark-dns give the compose network its names.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" uidmap slirp4netns fuse-overlayfs > /dev/null
fi
command -v podman-compose > /dev/null || pip install -q podman-compose
deploy/build-image.sh --postgres
source deploy/podman-env.sh
compose=(podman-compose -f deploy/compose.yaml)
finish() {
  status=$?
  if [ $status -ne 0 ]; then "${compose[@]}" logs > .build-image/compose.log 2>&1 || true; echo "compose logs: .build-image/compose.log"; fi
  "${compose[@]}" down -v > /dev/null 2>&1 || true
  exit $status
}
trap finish EXIT
"${compose[@]}" up -d > .build-image/compose-up.log 2>&1

# Until the API answers: it starts once the migrations ran (its restarts wait for PostgreSQL).
for _ in $(seq 120); do curl -fsS http://127.0.0.1:8080/readyz > /dev/null 2>&1 && break; sleep 1; done
curl -fsS http://127.0.0.1:8080/readyz > /dev/null
status=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/v1/jobs)
[ "$status" = 401 ] || { echo "auth is not required: GET /v1/jobs answered $status"; exit 1; }
key=$("${compose[@]}" exec -T api sluice keys create --user compose-test --admin | tail -1)
job=$(curl -fsS -H "Authorization: Bearer $key" -F preset=text-classify -F file=@Examples/reviews.csv http://127.0.0.1:8080/v1/jobs |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 300); do
  state=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:8080/v1/jobs/$job" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
  case "$state" in completed) break ;; failed|cancelled|completed_with_errors|expired) echo "job $job ended $state"; exit 1 ;; esac
  sleep 1
done
[ "$state" = completed ] || { echo "job $job is still $state"; exit 1; }
rows=$(($(wc -l < Examples/reviews.csv) - 1))
results=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:8080/v1/jobs/$job/results?format=jsonl" | grep -c '"succeeded"')
[ "$results" = "$rows" ] || { echo "$results of $rows rows succeeded"; exit 1; }
# The API serves with --no-workers: the two workers did the work.
echo "compose test passed: job $job completed with $results rows"
