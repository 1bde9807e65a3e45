#!/usr/bin/env python3
"""A Batch API job through a real `sluice serve` against the fake provider as a process.

Starts the fake (latency, limits and faults as given), writes a provider configuration for it,
starts `sluice serve`, uploads a JSONL batch of N chat requests, creates the batch and polls it
until it ends, reading the fake's counters at every poll. Prints one JSON object of figures:

- wall: batch create request sent -> the poll that saw it completed (seconds, to the poll interval);
- calls, calls per item, and the fault floor (one call per item plus one per injected fault);
- staleness: the longest a successful reply took to show in the batch's counts (poll resolution);
- with --kill-at S: the server is killed with SIGKILL S seconds in and started again on the
  same database; "paid twice" is replies answered 200 that no item kept, against the calls in
  flight at the kill;
- hedges: calls the server raced with a second one, overdue (from its /metrics; after a kill,
  only the restarted server's);
- cpu_per_1000_calls: the server's user+system CPU seconds per 1,000 calls (all processes of
  the server summed, the fake excluded);
- with --workers N: the API runs alone (`sluice serve --no-workers`) and N `sluice worker`
  processes do the calls; with --database a postgres:// URL, all of them share PostgreSQL;
- busiest_minute and utilisation: the most calls the fake received in any 60 s (by its
  per-second counts), and the calls per second over the busy seconds against the limit;
- status_ms: p50/p99 of the batch reads the poll made while the job ran.

Standard library only. Used by Benchmarks/faults/bench.sh; see BENCHMARKS.md.
"""
import argparse, json, os, re, signal, subprocess, sys, tempfile, time, urllib.request, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import children  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True, help="folder with sluice and sluice-fake-provider")
p.add_argument("--items", type=int, default=2000)
p.add_argument("--latency-ms", type=float, default=400)
p.add_argument("--latency-spread-ms", type=float, default=200)
p.add_argument("--fake-rpm", type=float, default=6000)
p.add_argument("--rpm", type=float, default=6000, help="the limit Sluice is configured with (0: none)")
p.add_argument("--fake-tpm", type=float, default=0, help="tokens a minute the fake allows (0: no limit)")
p.add_argument("--tpm", type=float, default=0, help="the token limit Sluice is configured with (0: none)")
p.add_argument("--fault-500", type=float, default=0.05)
p.add_argument("--fault-hang", type=float, default=0.02)
p.add_argument("--hang-seconds", type=float, default=30)
p.add_argument("--fault-malformed", type=float, default=0.01)
p.add_argument("--concurrency", type=int, default=64)
p.add_argument("--kill-at", type=float, default=None)
p.add_argument("--seed", type=int, default=42)
p.add_argument("--window", choices=["sliding", "per-second", "bucket"], default="sliding",
               help="how the fake counts its requests-per-minute limit (see sluice-fake-provider)")
p.add_argument("--no-limit-headers", action="store_true", help="the fake sends no x-ratelimit-* headers: Sluice paces evenly")
p.add_argument("--poll", type=float, default=0.2)
p.add_argument("--database", default=None, help="a postgres:// URL (default: a SQLite file in a temp folder)")
p.add_argument("--workers", type=int, default=0, help="run N `sluice worker` processes, the API alone")
a = p.parse_args()

work = tempfile.mkdtemp(prefix="sluice-faults-")
procs = []


def start(args, log):
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(work, log), "ab"), text=True)
    procs.append(proc)
    return proc


def port_of(proc, word):
    return children.port_of(proc, word, work)


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


fake_args = [
    os.path.join(a.bin, "sluice-fake-provider"), "--latency-ms", str(a.latency_ms), "--latency-spread-ms", str(a.latency_spread_ms),
    "--fault-500", str(a.fault_500), "--fault-hang", str(a.fault_hang), "--hang-seconds", str(a.hang_seconds),
    "--fault-malformed", str(a.fault_malformed), "--seed", str(a.seed),
]
if a.fake_rpm > 0:
    fake_args += ["--rpm", str(a.fake_rpm)]
if a.fake_tpm > 0:
    fake_args += ["--tpm", str(a.fake_tpm)]
if a.no_limit_headers:
    fake_args += ["--no-limit-headers"]
fake_args += ["--window", a.window]
fake = start(fake_args, "fake.log")
fake_url = f"http://127.0.0.1:{port_of(fake, 'the fake')}"
config = children.fake_provider_config(work, fake_url, {"rpm": a.rpm, "tpm": a.tpm}, """    timeout_seconds: 120
routes:
  - {model: "*", provider: fake}
""")
database = a.database or os.path.join(work, "sluice.sqlite")
env = dict(os.environ, FAKE_KEY="sk-fake")


def start_server(port=0):
    proc = subprocess.Popen(
        [os.path.join(a.bin, "sluice"), "serve", "--port", str(port), "--database", database, "--config", config,
         "--rate-limit", "0", "--log-level", "error", "--concurrency", str(a.concurrency), "--uploads", os.path.join(work, "uploads")]
        + (["--no-workers"] if a.workers else []),
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "serve.log"), "ab"), text=True, env=env)
    procs.append(proc)
    return proc, port_of(proc, "sluice serve")


def start_workers():
    workers = []
    for number in range(a.workers):
        proc = subprocess.Popen(
            [os.path.join(a.bin, "sluice"), "worker", "--database", database, "--config", config, "--log-level", "error",
             "--concurrency", str(a.concurrency), "--uploads", os.path.join(work, "uploads")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"worker-{number}.log"), "ab"), env=env)
        procs.append(proc)
        workers.append(proc)
    return workers


def counters():
    return http("GET", fake_url + "/_fake/counters")


try:
    server, port = start_server()
    workers = start_workers()
    base = f"http://127.0.0.1:{port}"
    lines = "".join(
        json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Rate item {i} of the scenario"}]}})
        + "\n" for i in range(a.items))
    boundary = uuid.uuid4().hex
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
            f"Content-Type: application/jsonl\r\n\r\n{lines}\r\n--{boundary}--\r\n").encode()
    file = http("POST", base + "/v1/files", form, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    cpu_before = sum(cpu_seconds(proc.pid) for proc in [server] + workers)
    started = time.time()
    batch = http("POST", base + "/v1/batches",
                 json.dumps({"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode(),
                 {"Content-Type": "application/json"})
    series = []  # (time, fake succeeded, batch completed)
    reads = []  # seconds per batch read
    killed = None
    cpu_before_kill = 0.0
    while True:
        now = time.time() - started
        if a.kill_at is not None and killed is None and now >= a.kill_at:
            seen = counters()
            cpu_before_kill = cpu_seconds(server.pid) - cpu_before
            server.send_signal(signal.SIGKILL)
            server.wait()
            killed = {"at": round(now, 2), "in_flight": seen["in_flight"], "answered_ok": seen["succeeded"]}
            server, _ = start_server(port)
            cpu_before = cpu_seconds(server.pid)
            continue
        try:
            read_started = time.time()
            batch = http("GET", base + f"/v1/batches/{batch['id']}")
            reads.append(time.time() - read_started)
        except OSError:
            time.sleep(a.poll)
            continue
        fake_counts = counters()
        series.append((now, fake_counts["succeeded"], batch["request_counts"]["completed"]))
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            finished = time.time() - started
            break
        time.sleep(a.poll)
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        metrics = response.read().decode()
    hedges = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("sluice_provider_hedges_total"))
    cpu = cpu_before_kill + sum(cpu_seconds(proc.pid) for proc in [server] + workers) - cpu_before
    final = counters()
    # How long a reply the fake had sent went unshown: at each poll, the earliest poll at which
    # the fake had sent more successful replies than the batch shows now. After a kill the
    # replies paid twice never show, so only the polls before it count.
    staleness = 0.0
    counted = [s for s in series if killed is None or s[0] < killed["at"]]
    for t, _, completed in counted:
        lag_from = next((t2 for t2, ok, _ in counted if ok > completed), None)
        if lag_from is not None and lag_from <= t:
            staleness = max(staleness, t - lag_from)
    faults = sum(final["faults"].values())
    result = {
        "items": a.items, "status": batch["status"], "request_counts": batch["request_counts"],
        "wall_s": round(finished, 2),
        "items_per_s": round(a.items / finished, 1),
        "calls": final["received"], "calls_per_item": round(final["received"] / a.items, 3),
        "fault_floor": a.items + faults, "hedges": int(hedges), "faults": final["faults"], "429s": final["rate_limited"],
        "max_staleness_s": round(staleness, 2),
        "cpu_per_1000_calls_s": round(cpu / max(final["received"], 1) * 1000, 3),
    }
    per_second = {int(k): v for k, v in final["accepted_per_second"].items()}
    for k, v in final["rate_limited_per_second"].items():
        per_second[int(k)] = per_second.get(int(k), 0) + v
    if per_second:
        first, last = min(per_second), max(per_second)
        result["busiest_minute"] = max(sum(per_second.get(s, 0) for s in range(start, start + 60)) for start in range(first, max(first, last - 59) + 1))
        busy = [per_second.get(s, 0) for s in range(first + 1, last)]  # whole seconds only
        if busy and a.rpm > 0:
            result["utilisation_pct"] = round(sum(busy) / len(busy) / (a.rpm / 60) * 100, 1)
    if reads:
        reads.sort()
        result["status_ms"] = {"p50": round(reads[len(reads) // 2] * 1000, 1), "p99": round(reads[int(len(reads) * 0.99)] * 1000, 1)}
    if killed:
        killed["paid_twice"] = final["succeeded"] - batch["request_counts"]["completed"]
        result["kill"] = killed
    print(json.dumps(result))
finally:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
