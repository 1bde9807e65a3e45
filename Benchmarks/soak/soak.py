"""The soak test's clients and checks (Benchmarks/soak/soak.sh)."""
import http.client
import json
import os
import random
import sys
import threading
import time
from urllib.parse import urlparse

url = urlparse(sys.argv[1])
server_pid = int(sys.argv[2])
minutes = float(sys.argv[3])
keys = sys.argv[4:]
SPEC = "preset=text-classify&max_attempts=3"
lock = threading.Lock()
statuses = {}
server_errors = []
jobs = {}  # id -> key
cancelled = set()


def note(status, what):
    with lock:
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            server_errors.append(f"{status} {what}")


def call(conn, method, path, key, body=None, headers=None, stream_seconds=None):
    headers = dict(headers or {})
    headers["Authorization"] = "Bearer " + key
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    note(response.status, f"{method} {path}")
    if stream_seconds is None:
        return response.status, response.read()
    deadline = time.time() + stream_seconds
    got = b""
    while time.time() < deadline:
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(1024)
        if not chunk:
            break
        got += chunk
    return response.status, got


def csv(rows, tag):
    lines = [f"{n},{tag} review {n}: the delivery was {'great' if n % 3 else 'slow'} and the staff friendly" for n in range(rows)]
    return ("id,text\n" + "\n".join(lines) + "\n").encode()


def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def submit(conn, key, rows, tag):
    status, body = call(conn, "POST", f"/v1/jobs?{SPEC}&name={tag}", key, csv(rows, tag), {"Content-Type": "text/csv"})
    if status == 202:
        job = json.loads(body)["id"]
        with lock:
            jobs[job] = key
        return job
    return None


def client(number, until):
    rng = random.Random(number)
    key = keys[number % len(keys)]
    conn = connect()
    mine = []
    next_upload = time.time()
    while time.time() < until:
        action = rng.choices(["upload", "poll", "events", "results", "list", "cancel"], [2, 5, 2, 2, 2, 1])[0]
        try:
            # A client uploads a small job every 10-30 s: with the two big jobs, about what the
            # provider's pace finishes in the time.
            if action == "upload" and time.time() >= next_upload:
                next_upload = time.time() + rng.uniform(10, 30)
                job = submit(conn, key, rng.randint(20, 400), f"c{number}-{len(mine)}")
                if job:
                    mine.append(job)
            elif action == "poll" and mine:
                call(conn, "GET", f"/v1/jobs/{rng.choice(mine)}", key)
            elif action == "events" and mine:
                events = connect()
                call(events, "GET", f"/v1/jobs/{rng.choice(mine)}/events", key, stream_seconds=rng.uniform(0.5, 3))
                events.close()
            elif action == "results" and mine:
                fmt = rng.choice(["csv", "jsonl"])
                call(conn, "GET", f"/v1/jobs/{rng.choice(mine)}/results?format={fmt}", key)
            elif action == "list":
                call(conn, "GET", "/v1/jobs?limit=20", key)
            elif action == "cancel" and mine:
                job = rng.choice(mine)
                status, _ = call(conn, "POST", f"/v1/jobs/{job}/cancel", key)
                if status == 200:
                    with lock:
                        cancelled.add(job)
        except (http.client.HTTPException, OSError) as error:
            with lock:
                server_errors.append(f"connection: {action}: {error!r}")
            conn.close()
            conn = connect()
        time.sleep(rng.uniform(0.05, 0.4))
    conn.close()


def resident_kb():
    for line in open(f"/proc/{server_pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def open_fds():
    return len(os.listdir(f"/proc/{server_pid}/fd"))


def fd_targets():
    targets = []
    for fd in os.listdir(f"/proc/{server_pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{server_pid}/fd/{fd}"))
        except OSError:
            pass
    return sorted(targets)


# Two big jobs first, then the clients.
boot = connect()
rows = int(os.environ.get("BIG_ROWS", "100000"))
big = [submit(boot, keys[0], rows, "big-a"), submit(boot, keys[1], rows, "big-b")]
boot.close()
assert all(big), "the big jobs were refused"
fds_before = open_fds()
targets_before = fd_targets()
started = time.time()
until = started + minutes * 60
samples = []
threads = [threading.Thread(target=client, args=(n, until)) for n in range(20)]
for t in threads:
    t.start()
while time.time() < until:
    samples.append((time.time() - started, resident_kb(), open_fds()))
    time.sleep(10)
for t in threads:
    t.join()
print(f"{len(jobs)} jobs: the 2 big ones and {len(jobs) - 2} from 20 clients in {minutes:g} min ({len(cancelled)} cancelled)")

# Everything finishes (the fake's hangs need their timeouts), then the checks.
watch = connect()
deadline = time.time() + 900
open_jobs = set(jobs)
while open_jobs and time.time() < deadline:
    for job in list(open_jobs):
        status, body = call(watch, "GET", f"/v1/jobs/{job}", jobs[job])
        if json.loads(body)["status"] in ("completed", "completed_with_errors", "failed", "cancelled", "expired"):
            open_jobs.discard(job)
    time.sleep(2)
drained = time.time() - until
problems = [f"{len(open_jobs)} jobs still unfinished 15 min after the clients stopped"] if open_jobs else []
items = 0
for job, key in jobs.items():
    status, body = call(watch, "GET", f"/v1/jobs/{job}", key)
    j = json.loads(body)
    c = j["counts"]
    if c["succeeded"] + c["failed"] + c["cancelled"] != c["total"] or c["pending"] or c["running"]:
        problems.append(f"{job}: counts do not add up: {c}")
    status, body = call(watch, "GET", f"/v1/jobs/{job}/results?format=jsonl", key)
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    indexes = [line["index"] for line in lines]
    if sorted(indexes) != list(range(c["total"])):
        problems.append(f"{job}: {len(lines)} result lines for {c['total']} items, or indexes repeat")
    for line in lines:
        if line["status"] == "succeeded" and line.get("output") is None:
            problems.append(f"{job}: item {line['index']} succeeded without an output")
        if line["status"] == "failed" and not line.get("error"):
            problems.append(f"{job}: item {line['index']} failed without a reason")
    if job not in cancelled and j["status"] == "cancelled":
        problems.append(f"{job}: cancelled though nobody cancelled it")
    items += len(lines)
watch.close()
# Idle connections to the provider close after the client pool's 60 s idle timeout.
time.sleep(65)
fds_after = open_fds()
targets_after = fd_targets()
warm = [s for s in samples if s[0] >= 120] or samples
print(f"API answers: {dict(sorted(statuses.items()))}; 5xx or broken connections: {len(server_errors)}")
for error in server_errors[:10]:
    print("  ", error)
print(f"{items} results checked across {len(jobs)} jobs; drained {drained:.0f} s after the clients stopped")
print("resident memory (MB) every 10 s: " + " ".join(f"{kb / 1024:.0f}" for _, kb, _ in samples))
print(f"after warm-up (2 min): {warm[0][1] / 1024:.0f} MB -> {warm[-1][1] / 1024:.0f} MB at the end of the load "
      f"(max {max(kb for _, kb, _ in warm) / 1024:.0f} MB)")
print(f"open file descriptors: {fds_before} before the clients, {fds_after} after (peak {max(f for *_, f in samples)})")
if warm[-1][1] > 2 * warm[0][1]:
    problems.append(f"memory grew from {warm[0][1] // 1024} MB to {warm[-1][1] // 1024} MB after warm-up")
kinds = lambda targets: {k: sum(1 for t in targets if t.split(":")[0] == k) for k in {t.split(":")[0] for t in targets}}
print(f"  kinds before: {kinds(targets_before)}; after: {kinds(targets_after)}")
# SQLite's reader pool opens up to five connections (each the file and its WAL) as load asks,
# and keeps them: bounded, not a leak. Everything else must be back where it was.
others = lambda targets: [t for t in targets if "db.sqlite" not in t]
if len(others(targets_after)) > len(others(targets_before)):
    problems.append(f"file descriptors other than the database's grew from {len(others(targets_before))} "
                    f"to {len(others(targets_after))}")
if server_errors:
    problems.append(f"{len(server_errors)} 5xx answers or broken connections")
for problem in problems[:20]:
    print("PROBLEM:", problem)
sys.exit(1 if problems else 0)
