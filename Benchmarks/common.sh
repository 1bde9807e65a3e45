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
