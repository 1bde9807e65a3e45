"""Drives Benchmarks/fairness/bench.sh: how soon a second user's small job starts while a first
user's large job runs, against the fake provider at a given limit, through `sluice serve`.

User A submits a 3,000-row job; once its calls have run for --head-start seconds, user B submits
a 20-row job. Printed: B's first result after its 202 (its first call's start plus one call's
latency, 400 ± 200 ms), B's last result, and A's share of the calls made while B's ran.

--priority high: A submits the small job herself, at that priority (an urgent job behind her own
big one). --weights 1,3: A's and B's keys weigh that much; with --small as large as --big, the
shares of the calls made in the --share-seconds after B's first result are printed.
"""
import argparse, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import children  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--rpm", type=float, default=600)
p.add_argument("--head-start", type=float, default=10)
p.add_argument("--big", type=int, default=3000)
p.add_argument("--small", type=int, default=20)
p.add_argument("--concurrency", type=int, default=64)
p.add_argument("--headers", action="store_true", help="the fake sends x-ratelimit-* headers (default: none, so no bursts)")
p.add_argument("--database", default=None, help="a postgres:// URL (default: a SQLite file in a temp folder)")
p.add_argument("--workers", type=int, default=0, help="run N `sluice worker` processes beside the API alone")
p.add_argument("--priority", default=None, help="the first user submits the small job herself, at this priority")
p.add_argument("--weights", default="1,1", help="the two users' key weights, such as 1,3")
p.add_argument("--share-seconds", type=float, default=0, help="measure each user's share of calls over this many seconds")
a = p.parse_args()
work = os.environ.get("TMPDIR_FAIRNESS") or os.path.join("/tmp", f"fairness-{os.getpid()}")
os.makedirs(work, exist_ok=True)
procs = []


def port_of(proc, word):
    return children.port_of(proc, word, work)


call = children.call


try:
    fake = subprocess.Popen(
        [os.path.join(a.bin, "sluice-fake-provider"), "--latency-ms", "400", "--latency-spread-ms", "200", "--rpm", f"{a.rpm:g}"]
        + ([] if a.headers else ["--no-limit-headers"]),
        stdout=subprocess.PIPE, text=True)
    procs.append(fake)
    fake_url = f"http://127.0.0.1:{port_of(fake, 'the fake')}"
    config = children.fake_provider_config(work, fake_url, {"rpm": a.rpm})
    database = a.database or os.path.join(work, "sluice.sqlite")
    sluice = os.path.join(a.bin, "sluice")
    subprocess.run([sluice, "migrate", "--database", database], check=True, capture_output=True)
    weights = dict(zip(("alice", "bob"), a.weights.split(",")))
    keys = {user: subprocess.run([sluice, "keys", "create", "--user", user, "--database", database]
                                 + ([] if weights[user] == "1" else ["--weight", weights[user]]), check=True, capture_output=True,
                                 text=True).stdout.strip().splitlines()[-1] for user in ("alice", "bob")}
    server = subprocess.Popen(
        [sluice, "serve", "--port", "0", "--database", database, "--config", config, "--auth", "required", "--rate-limit", "0",
         "--log-level", "error", "--concurrency", str(a.concurrency), "--uploads", os.path.join(work, "uploads")]
        + (["--no-workers"] if a.workers else []),
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "serve.log"), "ab"), text=True, env=dict(os.environ, FAKE_KEY="sk-fake"))
    procs.append(server)
    for number in range(a.workers):
        procs.append(subprocess.Popen(
            [sluice, "worker", "--database", database, "--config", config, "--log-level", "error", "--concurrency", str(a.concurrency),
             "--uploads", os.path.join(work, "uploads")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"worker-{number}.log"), "ab"), env=dict(os.environ, FAKE_KEY="sk-fake")))
    port = port_of(server, "sluice serve")
    query = "/v1/jobs?template=Classify%3A%20%7B%7Btext%7D%7D&provider=fake&model=gpt-4o-mini"

    def rows(count, who):
        return ("text\n" + "".join(f"{who} row {n}\n" for n in range(count))).encode()

    status, big = call(port, "POST", query, rows(a.big, "alice"), {"Content-Type": "text/csv"}, keys["alice"])
    assert status == 202, big
    while True:
        _, state = call(port, "GET", f"/v1/jobs/{big['id']}", secret=keys["alice"])
        if state["counts"]["succeeded"] > 0:
            break
        time.sleep(0.05)
    time.sleep(a.head_start)
    second = "alice" if a.priority else "bob"
    submitted = time.time()
    status, small = call(port, "POST", query + (f"&priority={a.priority}" if a.priority else ""), rows(a.small, second),
                         {"Content-Type": "text/csv"}, keys[second])
    assert status == 202, small
    accepted = time.time()
    _, before = call(port, "GET", f"/v1/jobs/{big['id']}", secret=keys["alice"])
    first = None
    while True:
        _, state = call(port, "GET", f"/v1/jobs/{small['id']}", secret=keys[second])
        done = state["counts"]["succeeded"] + state["counts"]["failed"]
        if done > 0 and first is None:
            first = time.time() - accepted
            if a.share_seconds:
                _, a0 = call(port, "GET", f"/v1/jobs/{big['id']}", secret=keys["alice"])
                _, b0 = call(port, "GET", f"/v1/jobs/{small['id']}", secret=keys[second])
                time.sleep(a.share_seconds)
                _, a1 = call(port, "GET", f"/v1/jobs/{big['id']}", secret=keys["alice"])
                _, b1 = call(port, "GET", f"/v1/jobs/{small['id']}", secret=keys[second])
                alice_share = a1["counts"]["succeeded"] - a0["counts"]["succeeded"]
                bob_share = b1["counts"]["succeeded"] - b0["counts"]["succeeded"]
                print(f"rpm {a.rpm:g}, weights {a.weights}: over {a.share_seconds:g} s the first user got {alice_share} calls, "
                      f"the second {bob_share} ({bob_share / max(1, alice_share + bob_share):.0%} of them)")
                break
        if state["status"] in ("completed", "completed_with_errors", "failed", "cancelled", "paused"):
            break
        time.sleep(0.05)
    last = time.time() - accepted
    _, after = call(port, "GET", f"/v1/jobs/{big['id']}", secret=keys["alice"])
    alice_calls = after["counts"]["succeeded"] - before["counts"]["succeeded"]
    if a.share_seconds:
        sys.exit(0)
    who = f"the first user's {a.priority}-priority job" if a.priority else "second user's"
    print(f"rpm {a.rpm:g}{f', {a.workers} workers' if a.workers else ''}: {who} first result {first:.2f} s after its 202 ({accepted - submitted:.2f} s to accept), "
          f"last {last:.2f} s; first user's results meanwhile {alice_calls} (share {alice_calls / (alice_calls + a.small):.0%})")
finally:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait()
