#!/usr/bin/env bash
# Runs every test of the package: unit, store conformance, engine and CLI (which run the built
# `sluice` binary as a child process). Later tiers that need servers start them here.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Benchmarks Package.swift
exec swift test "$@"
