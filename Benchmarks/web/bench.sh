#!/usr/bin/env bash
# The web page's and the client commands' benchmarks (BENCHMARKS.md, "Web page and CLI"),
# against a release `sluice serve --auth required` and the fake provider as a process:
#
#     Benchmarks/web/bench.sh [clean|provider|all]   (default: all)
#
# clean: the fake answers at once.
# submit   100,000 rows through `sluice submit --wait` (upload, then the events stream to the
#          end); the fake answers at once but fails 10% of calls with a 500, and the spec allows
#          one attempt, so ~10,000 items fail: the job page has a long failure table to show.
# results  `sluice results -o out.csv` for those 100,000 rows: seconds and rows a second.
# pages    50 requests each, signed in with a session: the jobs list (21 jobs), the 100,000-row
#          job's page (progress, failures, chart), its chart alone, and GET /v1/jobs/{id} with
#          the session cookie and with the key: median and 95th percentile, ms.
# preview  the new-job preview of the whole 100,000-row file, and of its first 256 KB (what the
#          page's script sends): median of 10, ms.
# provider: the provider as it is, and more than one process: 2,000 rows one per call against
#          400 ± 200 ms, 5% 500s, 2% hangs of 30 s (Sluice gives up at 10 s), 1% malformed
#          bodies and a binding 600 RPM, enforced by the fake too; two `sluice serve
#          --no-workers` and two `sluice worker` processes on a throwaway PostgreSQL. The
#          browser signs in on one API process and reads every page from the other while the
#          job runs: page latency under load, the job's time, and the throttled items the
#          chart counts against the 429s the fake sent.
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider

python3 - "$work/rows.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(100_000):
        f.write(f"{i},order {i} arrived late but the support team was great and fixed it quickly\n")
PY
head -c 262144 "$work/rows.csv" > "$work/head.csv"
head -11 "$work/rows.csv" > "$work/small.csv"

# Starts the fake with the given options and writes a configuration for it with Sluice's LIMITS.
start_fake_with_limits() {
  start_fake "$@"
  cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-model,
         limits: $LIMITS, timeout_seconds: 10}
YAML
}

clean() {

LIMITS="{rpm: 1000000, concurrency: 64}" start_fake_with_limits --fault-500 0.1 --seed 11
key=$("$bin/sluice" keys create --user analyst --database "$work/db.sqlite" 2>/dev/null)
FAKE_KEY=k "$bin/sluice" serve --port 0 --auth required --database "$work/db.sqlite" --config "$work/sluice.yaml" \
    --rate-limit 0 --log-level error > "$work/serve.out" 2>&1 &
pids+=($!)
url=$(await_url "$work/serve.out")
echo '{"preset": "text-classify", "max_attempts": 1, "cache": false}' > "$work/spec.json"

echo "== sluice submit --wait: 100,000 rows, 10% of calls fail"
# Twenty small jobs first, for the jobs list to show; they are done before the timing starts.
for n in $(seq 20); do
    SLUICE_API_KEY=$key "$bin/sluice" submit "$work/small.csv" --spec "$work/spec.json" --server "$url" --wait > /dev/null 2>&1 || true
done
started=$(date +%s.%N)
SLUICE_API_KEY=$key "$bin/sluice" submit "$work/rows.csv" --spec "$work/spec.json" --server "$url" --wait --json \
    > "$work/job.json" 2> "$work/submit.err" || true
python3 - "$work/job.json" "$started" <<'PY'
import json, sys, time
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
wall = time.time() - float(sys.argv[2])
print("%s: %d succeeded, %d failed of %d in %.1f s (%.0f rows/s, upload and watch included)"
      % (j["status"], j["counts"]["succeeded"], j["counts"]["failed"], j["counts"]["total"], wall, j["counts"]["total"] / wall))
PY
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["id"])' "$work/job.json")

echo "== sluice results -o out.csv"
started=$(date +%s.%N)
SLUICE_API_KEY=$key "$bin/sluice" results "$id" -o "$work/out.csv" --server "$url" 2>/dev/null
python3 - "$work/out.csv" "$started" <<'PY'
import sys, time
wall = time.time() - float(sys.argv[2])
rows = sum(1 for _ in open(sys.argv[1], newline="")) - 1
print("%d rows in %.2f s (%.0f rows/s)" % (rows, wall, rows / wall))
PY

echo "== pages (signed in), 50 requests each"
python3 - "$url" "$key" "$id" "$work/rows.csv" "$work/head.csv" <<'PY'
import http.cookiejar, statistics, sys, time, urllib.parse, urllib.request, uuid
url, key, job, whole, head = sys.argv[1:]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
opener.open(url + "/sign-in").read()
token = next(c.value for c in jar if c.name == "sluice_csrf")
opener.open(url + "/sign-in", urllib.parse.urlencode({"key": key, "csrf": token, "next": "/"}).encode()).read()
token = next(c.value for c in jar if c.name == "sluice_csrf")

def timed(call, n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]

def page(path):
    return lambda: opener.open(url + path).read()

def bearer(path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + key})
    return lambda: urllib.request.urlopen(request).read()

for label, call in [("jobs list (21 jobs)", page("/")), ("job page (100k rows, failures, chart)", page("/jobs/" + job)),
                    ("chart alone", page("/jobs/%s/chart" % job)), ("GET /v1/jobs/{id}, session cookie", page("/v1/jobs/" + job)),
                    ("GET /v1/jobs/{id}, API key", bearer("/v1/jobs/" + job))]:
    p50, p95 = timed(call, 50)
    print("%-40s median %6.1f ms, p95 %6.1f ms" % (label, p50, p95))

def preview(path):
    data = open(path, "rb").read()
    boundary = uuid.uuid4().hex
    body = b"".join([
        b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), k.encode(), v.encode())
        for k, v in [("csrf", token), ("mode", "preset"), ("preset", "text-classify")]
    ]) + b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\n\r\n" % boundary.encode() + data \
        + b"\r\n--%s--\r\n" % boundary.encode()
    request = urllib.request.Request(url + "/jobs/preview?fragment=1", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    return lambda: opener.open(request).read()

print("== preview, median of 10")
for label, path in [("whole file (%.1f MB)" % (len(open(whole, "rb").read()) / 1e6), whole), ("first 256 KB", head)]:
    p50, _ = timed(preview(path), 10)
    print("%-40s median %6.1f ms" % (label, p50))
PY
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()
}

provider() {
eval "$(scripts/postgres.sh start)"
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"; rm -rf "$work"' EXIT
db=$SLUICE_TEST_POSTGRES
head -2001 "$work/rows.csv" > "$work/rows-2k.csv"
# SLUICE_RPM above 600 configures Sluice above the fake's real limit, so 429s come and the chart must count them.
LIMITS="{rpm: ${SLUICE_RPM:-600}}" start_fake_with_limits --latency-ms 400 --latency-spread-ms 200 --fault-500 0.05 --fault-hang 0.02 --hang-seconds 30 \
    --fault-malformed 0.01 --rpm 600 --seed 5
"$bin/sluice" migrate --database "$db" > /dev/null
key=$("$bin/sluice" keys create --user analyst --database "$db" 2>/dev/null)
for n in 1 2; do
  FAKE_KEY=k "$bin/sluice" serve --port 0 --no-workers --auth required --database "$db" --config "$work/sluice.yaml" \
      --uploads "$work/uploads" --rate-limit 0 --log-level error > "$work/api$n.out" 2>&1 &
  pids+=($!)
  FAKE_KEY=k "$bin/sluice" worker --database "$db" --config "$work/sluice.yaml" --log-level error > /dev/null 2>&1 &
  pids+=($!)
done
api1=$(await_url "$work/api1.out")
api2=$(await_url "$work/api2.out")
echo '{"preset": "text-classify", "cache": false}' > "$work/spec.json"
echo "== 2,000 rows, one per call, the provider as it is (600 RPM; Sluice told ${SLUICE_RPM:-600}), 2 API + 2 workers on PostgreSQL"
python3 - "$api1" "$api2" "$key" "$bin/sluice" "$work/rows-2k.csv" "$work/spec.json" "http://127.0.0.1:$port" <<'PY'
import http.cookiejar, json, re, statistics, subprocess, sys, time, urllib.parse, urllib.request
api1, api2, key, sluice, rows, spec, fake = sys.argv[1:]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
# Signed in on the first API process; every page below is read from the second.
opener.open(api1 + "/sign-in").read()
token = next(c.value for c in jar if c.name == "sluice_csrf")
opener.open(api1 + "/sign-in", urllib.parse.urlencode({"key": key, "csrf": token, "next": "/"}).encode()).read()
started = time.time()
out = subprocess.run([sluice, "submit", rows, "--spec", spec, "--server", api1, "--key", key, "--json"],
                     check=True, capture_output=True, text=True).stdout
job = json.loads(out.splitlines()[-1])["id"]
timings = {"jobs list": [], "job page": [], "chart": []}
status = "validating"
while status not in ("completed", "completed_with_errors", "failed", "cancelled"):
    for label, path in (("jobs list", "/"), ("job page", "/jobs/" + job), ("chart", "/jobs/%s/chart" % job)):
        t = time.perf_counter()
        html = opener.open(api2 + path).read().decode()
        timings[label].append((time.perf_counter() - t) * 1000)
    status = json.loads(opener.open(api2 + "/v1/jobs/" + job).read())["status"]
    time.sleep(1)  # one browser's pace of reading; not a synchronisation
wall = time.time() - started
final = json.loads(opener.open(api2 + "/v1/jobs/" + job).read())
counters = json.loads(urllib.request.urlopen(fake + "/_fake/counters").read())
chart = opener.open(api2 + "/jobs/%s/chart" % job).read().decode()
held = re.search(r"(\d+) items held back", chart)
print("%s: %d succeeded, %d failed of %d in %.1f s; %d calls; fake: %d requests, %d 429s, faults %s"
      % (final["status"], final["counts"]["succeeded"], final["counts"]["failed"], final["counts"]["total"], wall,
         final["usage"]["calls"], counters["received"], counters["rate_limited"], counters["faults"]))
print("chart: %s items held back by throttling (the fake sent %d 429s)" % (held.group(1) if held else "no", counters["rate_limited"]))
for label, values in timings.items():
    values.sort()
    print("%-10s while running, %d reads from the other API process: median %.1f ms, p95 %.1f ms, max %.1f ms"
          % (label, len(values), statistics.median(values), values[int(len(values) * 0.95) - 1], values[-1]))
PY
}

what=${1:-all}
case $what in clean|all) clean ;; esac
case $what in provider|all) provider ;; esac
