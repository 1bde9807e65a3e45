"""What a fallback provider saves when the primary is down or flaky (BENCHMARKS.md, "One key for a team").

Two fakes: the primary, answering with --primary-faults (`down`: every call 503; `flaky`: 20%
503s and 5% calls that hang for a minute), and a healthy backup; both take about --latency-ms a
call and allow --rpm calls a minute. A release `sluice serve` (SQLite) runs a job of --rows rows
on the primary twice: with `fallbacks: [backup]` and without. Printed for each: the job's end,
the seconds it took (or where it stood after --give-up-after), its items by status, and the calls each fake received.

    python3 Benchmarks/teams/fallbacks.py --bin DIR [--primary-faults down|flaky] [--rows 300] [--seed N]
"""
import argparse, json, os, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import children  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--rows", type=int, default=300)
p.add_argument("--rpm", type=int, default=600)
p.add_argument("--latency-ms", type=int, default=800)
p.add_argument("--primary-faults", choices=["down", "flaky"], default="down")
p.add_argument("--concurrency", type=int, default=32)
p.add_argument("--seed", type=int, default=42, help="the fakes' fault sequence")
p.add_argument("--give-up-after", type=int, default=300, help="seconds; a run still going then is reported as it stands")
a = p.parse_args()
work = os.environ.get("TMPDIR_FALLBACKS") or os.path.join("/tmp", f"fallbacks-{os.getpid()}")
os.makedirs(work, exist_ok=True)
FAULTS = {"down": ["--fault-503", "1"], "flaky": ["--fault-503", "0.2", "--fault-hang", "0.05", "--hang-seconds", "60"]}


def fake(extra):
    proc = subprocess.Popen([os.path.join(a.bin, "sluice-fake-provider"), "--latency-ms", str(a.latency_ms), "--latency-spread-ms",
                             str(a.latency_ms // 2), "--rpm", str(a.rpm), "--seed", str(a.seed)] + extra, stdout=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{children.port_of(proc, 'the fake', work)}"


def counters(url):
    with urllib.request.urlopen(url + "/_fake/counters") as response:
        return json.loads(response.read())


def provider(name, url, model, extra=""):
    return f"""  {name}:
    kind: openai
    base_url: {url}/v1
    api_key_env: FAKE_KEY
    default_model: {model}
    timeout_seconds: 30
    limits: {{rpm: {a.rpm}}}
{extra}"""


def run(with_fallback):
    procs = []
    try:
        primary, primary_url = fake(FAULTS[a.primary_faults])
        backup, backup_url = fake([])
        procs += [primary, backup]
        name = "with" if with_fallback else "without"
        config = os.path.join(work, f"providers-{name}.yaml")
        with open(config, "w") as f:
            f.write("providers:\n" + provider("main", primary_url, "main-model",
                                              "    fallbacks: [backup]\n    fallback_after_seconds: 5\n" if with_fallback else "")
                    + provider("backup", backup_url, "backup-model"))
        database = os.path.join(work, f"sluice-{name}.sqlite")
        sluice = os.path.join(a.bin, "sluice")
        server = subprocess.Popen(
            [sluice, "serve", "--port", "0", "--database", database, "--config", config, "--rate-limit", "0", "--log-level", "error",
             "--concurrency", str(a.concurrency), "--uploads", os.path.join(work, f"uploads-{name}")],
            stdout=subprocess.PIPE, stderr=open(os.path.join(work, "serve.log"), "ab"), text=True, env=dict(os.environ, FAKE_KEY="sk-fake"))
        procs.append(server)
        port = children.port_of(server, "sluice serve", work)
        rows = ("text\n" + "".join(f"row {n} of the fallback run\n" for n in range(a.rows))).encode()
        started = time.monotonic()
        status, job = children.call(port, "POST", "/v1/jobs?template=Classify%3A%20%7B%7Btext%7D%7D&provider=main&model=main-model"
                                    "&batch_size=1&max_attempts=5", rows, {"Content-Type": "text/csv"})
        assert status == 202, job
        while True:
            _, state = children.call(port, "GET", f"/v1/jobs/{job['id']}")
            if state["status"] in ("completed", "failed", "cancelled", "expired") or time.monotonic() - started > a.give_up_after:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
        counts = state["counts"]
        print(f"{a.primary_faults} primary (seed {a.seed}), {name} a fallback: {state['status']} in {seconds:.1f} s; "
              f"{counts['succeeded']} succeeded, {counts['failed']} failed of {a.rows}; calls: primary {counters(primary_url)['received']}, "
              f"backup {counters(backup_url)['received']}" + (f"; {state.get('status_reason')}" if state.get("status_reason") else ""))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


run(True)
run(False)
