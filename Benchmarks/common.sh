# Sourced by the benchmark scripts, from the repository's root:
#
#     . Benchmarks/common.sh
#     release_setup sluice sluice-fake-provider
#
# builds the release products named and sets $bin (where they are), $work (a temporary folder)
# and $pids (processes to stop); on exit the processes are stopped and the folder removed.

# Adds a command to those run on exit (each set-up below adds its own).
on_exit() {
  exit_commands="${exit_commands:-}$1;"
  trap "$exit_commands" EXIT
}

release_setup() {
  local product
  for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
  bin=$(swift build -c release --show-bin-path)
  work=$(mktemp -d)
  pids=()
  on_exit 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"'
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
  on_exit 'rm -rf "$run_bin"'
  ln -s "${SLUICE_BIN:-$bin}/sluice" "$run_bin/sluice"
  ln -s "$bin/sluice-fake-provider" "$run_bin/sluice-fake-provider"
}

# Starts a throwaway PostgreSQL server (scripts/postgres.sh) unless $SLUICE_TEST_POSTGRES names
# one, stopped on exit.
postgres_setup() {
  if [ -z "${SLUICE_TEST_POSTGRES:-}" ]; then
    eval "$(scripts/postgres.sh start)"
    on_exit 'scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"'
  fi
}

# Creates an empty database on $SLUICE_TEST_POSTGRES and prints its URL.
fresh_database() {
  local name="bench_$(date +%s%N)"
  python3 - "$SLUICE_TEST_POSTGRES" "$name" <<'PY'
import subprocess, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
subprocess.run(["psql", "-h", url.hostname, "-p", str(url.port), "-U", url.username, "-d", url.path.lstrip("/"), "-qc",
                f"CREATE DATABASE {sys.argv[2]}"], check=True)
PY
  echo "${SLUICE_TEST_POSTGRES%%/postgres*}/$name?sslmode=disable"
}
