# Sourced by the benchmark scripts, from the repository's root:
#
#     . Benchmarks/common.sh
#     release_setup sluice sluice-fake-provider
#
# builds the release products named and sets $bin (where they are), $work (a temporary folder)
# and $pids (processes to stop); on exit the processes are stopped and the folder removed.
release_setup() {
  local product
  for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
  bin=$(swift build -c release --show-bin-path)
  work=$(mktemp -d)
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# Starts the fake provider with the options given (output in $work/fake.out); sets $port once
# it listens.
start_fake() {
  "$bin/sluice-fake-provider" "$@" > "$work/fake.out" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^port ' "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  port=$(awk '/^port /{print $2}' "$work/fake.out")
}

# Waits for a process that printed its URL to FILE, and prints the URL.
await_url() {
  for _ in $(seq 200); do grep -qoE 'http://127.0.0.1:[0-9]+' "$1" && break; sleep 0.05; done
  grep -oE 'http://127.0.0.1:[0-9]+' "$1" | head -1
}

# Builds release `sluice` and `sluice-fake-provider` and sets $run_bin: a folder holding both,
# `sluice` taken from $SLUICE_BIN when set (to measure an older build); removed on exit.
sluice_and_fake_setup() {
  swift build -c release --product sluice >/dev/null
  swift build -c release --product sluice-fake-provider >/dev/null
  bin=$(swift build -c release --show-bin-path)
  run_bin=$(mktemp -d)
  trap 'rm -rf "$run_bin"' EXIT
  ln -s "${SLUICE_BIN:-$bin}/sluice" "$run_bin/sluice"
  ln -s "$bin/sluice-fake-provider" "$run_bin/sluice-fake-provider"
}
