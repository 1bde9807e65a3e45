"""How far a key's quota is passed with many calls in flight (BENCHMARKS.md, "Team controls").

A release `sluice serve` (SQLite, auth on, --concurrency slots) against the fake provider with no
rate limit and --latency-ms per call, so that --concurrency calls are in flight at once. User
alice's key may spend --tokens tokens a day; her job of --rows rows runs until its claim finds the
quota reached and pauses it. Printed: the tokens the job spent, the quota, the overshoot in tokens
and in calls (at the job's average tokens per call), and the calls in flight the overshoot is
bounded by.

    python3 Benchmarks/teams/quota.py --bin DIR [--tokens 20000] [--concurrency 64]
"""
import argparse, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import children  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--tokens", type=int, default=20000)
p.add_argument("--rows", type=int, default=5000)
p.add_argument("--concurrency", type=int, default=64)
p.add_argument("--latency-ms", type=int, default=2000)
a = p.parse_args()
work = os.environ.get("TMPDIR_QUOTA") or os.path.join("/tmp", f"quota-{os.getpid()}")
os.makedirs(work, exist_ok=True)
procs = []


call = children.call


try:
    fake = subprocess.Popen([os.path.join(a.bin, "sluice-fake-provider"), "--latency-ms", str(a.latency_ms),
                             "--no-limit-headers"], stdout=subprocess.PIPE, text=True)
    procs.append(fake)
    fake_url = f"http://127.0.0.1:{children.port_of(fake, 'the fake', work)}"
    config = children.fake_provider_config(work, fake_url, {})
    database = os.path.join(work, "sluice.sqlite")
    sluice = os.path.join(a.bin, "sluice")
    subprocess.run([sluice, "migrate", "--database", database], check=True, capture_output=True)
    key = subprocess.run([sluice, "keys", "create", "--user", "alice", "--tokens-per-day", str(a.tokens), "--database", database],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen(
        [sluice, "serve", "--port", "0", "--database", database, "--config", config, "--auth", "required", "--rate-limit", "0",
         "--log-level", "error", "--concurrency", str(a.concurrency), "--uploads", os.path.join(work, "uploads")],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "serve.log"), "ab"), text=True, env=dict(os.environ, FAKE_KEY="sk-fake"))
    procs.append(server)
    port = children.port_of(server, "sluice serve", work)
    rows = ("text\n" + "".join(f"row {n} of the quota run\n" for n in range(a.rows))).encode()
    status, job = call(port, "POST", "/v1/jobs?template=Classify%3A%20%7B%7Btext%7D%7D&provider=fake&model=gpt-4o-mini&batch_size=1",
                       rows, {"Content-Type": "text/csv"}, key)
    assert status == 202, job
    while True:
        _, state = call(port, "GET", f"/v1/jobs/{job['id']}", secret=key)
        if state["status"] == "paused" and state["counts"]["running"] == 0:
            break
        assert state["status"] not in ("completed", "failed", "cancelled"), state
        time.sleep(0.2)
    spent = state["usage"]["prompt_tokens"] + state["usage"]["completion_tokens"]
    calls = state["usage"]["calls"]
    per_call = spent / max(calls, 1)
    over = spent - a.tokens
    print(f"quota {a.tokens} tokens/day, {a.concurrency} calls in flight: the job spent {spent} tokens in {calls} calls "
          f"({per_call:.1f} a call), {over} over the quota = {over / per_call:.1f} calls (bound: {a.concurrency}); "
          f"paused: {state['status_reason']}")
finally:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait()
