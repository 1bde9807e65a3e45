#!/usr/bin/env bash
# A throwaway S3-compatible server (moto, from PyPI) for the tests.
#
#   eval "$(scripts/s3.sh start)"   # installs moto[server] if missing, starts it on a free
#                                   # loopback port, creates the bucket `sluice-test`, exports
#                                   # SLUICE_TEST_S3 (its endpoint), SLUICE_TEST_S3_PID and AWS_*
#   scripts/s3.sh stop "$SLUICE_TEST_S3_PID"
set -euo pipefail
case "${1:-}" in
start)
  if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
    echo "installing moto[server] from PyPI..." >&2
    python3 -m pip install --quiet 'moto[server]' >&2
  fi
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  LOG="$(mktemp /tmp/sluice-moto.XXXXXX)"
  python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
  PID=$!
  export AWS_ACCESS_KEY_ID=sluice-test AWS_SECRET_ACCESS_KEY=sluice-test AWS_REGION=us-east-1
  for _ in $(seq 1 100); do
    if python3 - "$PORT" <<'PY' 2>/dev/null; then break; fi
import sys, boto3
boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}").create_bucket(Bucket="sluice-test")
PY
    sleep 0.2
  done
  echo "export SLUICE_TEST_S3='http://127.0.0.1:$PORT' SLUICE_TEST_S3_BUCKET=sluice-test SLUICE_TEST_S3_PID=$PID"
  echo "export AWS_ACCESS_KEY_ID=sluice-test AWS_SECRET_ACCESS_KEY=sluice-test AWS_REGION=us-east-1"
  ;;
stop)
  kill "${2:?usage: scripts/s3.sh stop PID}" 2>/dev/null || true
  ;;
*)
  echo "usage: scripts/s3.sh start | stop PID" >&2
  exit 64
  ;;
esac
