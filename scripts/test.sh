#!/usr/bin/env bash
# Runs every test of the package: unit, store conformance, engine and CLI (which run the built
# `sluice` binary as a child process), then the system tests against a running server
# (OpenAI SDK, schemathesis), which start their own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Benchmarks Package.swift
swift test "$@"
scripts/system-test.sh
