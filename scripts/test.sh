#!/usr/bin/env bash
# Runs every test of the package: unit, store conformance and concurrency, engine and CLI
# (which run the built `sluice` binary as a child process), then the system tests against a
# running server (OpenAI SDK, schemathesis), which start their own servers.
#
# A throwaway PostgreSQL server (installed from Debian if missing) makes every store test run
# on both drivers; the engine and HTTP suites then run a second time on PostgreSQL. A
# throwaway S3-compatible server (moto, from PyPI) takes the upload storage tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Benchmarks Fuzz Package.swift
# PDFs are read with poppler's pdftotext; the document tests need it. The TLS tests make a
# throwaway self-signed certificate with openssl.
need=()
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
eval "$(scripts/postgres.sh start)"
eval "$(scripts/s3.sh start)"
trap 'scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"; scripts/s3.sh stop "$SLUICE_TEST_S3_PID"' EXIT
swift test --skip ChaosTests "$@"
SLUICE_TEST_DRIVER=postgres swift test --skip-build --filter 'SluiceEngineTests|SluiceServerTests'
# Alone: its three worker processes load the machine for two minutes, which other tests'
# providers (and their rate limits) would feel.
swift test --skip-build --filter ChaosTests
scripts/system-test.sh
# Each parser fuzzed briefly, with a fixed seed so a run can be repeated (longer: scripts/fuzz.sh 600).
FUZZ_SEED=1 scripts/fuzz.sh 15
