"""Traces across processes: an API process (`serve --no-workers`) and a `sluice worker` on one
database, both exporting OTLP/HTTP to a local receiver. A job posted with a W3C `traceparent`
must appear in the caller's trace — the API's request span, and the worker's ingest, claim,
job and provider-call spans (OpenTelemetry's gen_ai attributes, the job id and item index) —
and the API's JSON log lines carry the trace's ids.

Starts its own fake provider, receiver and processes (SLUICE_BIN names the folder of the
built binaries).
"""

import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from receiver import TraceReceiver

BIN = os.environ.get("SLUICE_BIN", ".build/debug")
ROWS = 6


def poll(what, condition, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        time.sleep(0.1)


def started(arguments, env, log, pattern):
    """Starts a process whose first output line matches `pattern`; returns it and the match."""
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=log, env=env)
    line = process.stdout.readline().decode()
    match = re.search(pattern, line)
    if not match:
        process.kill()
        raise AssertionError(f"{arguments[0]} did not start: {line!r}")
    return process, match


class TracesAcrossProcesses(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp()
        self.processes = []
        self.logs = []
        self.receiver = TraceReceiver()
        fake, match = started([f"{BIN}/sluice-fake-provider", "--latency-ms", "20"], os.environ.copy(), subprocess.DEVNULL,
                              r"port (\d+)")
        self.processes.append(fake)
        with open(os.path.join(self.work, "config.yaml"), "w") as config:
            config.write(f"""providers:
  fake:
    kind: openai
    base_url: http://127.0.0.1:{match.group(1)}/v1
    api_key_env: FAKE_KEY
routes:
  - {{model: "*", provider: fake}}
""")
        self.database = os.path.join(self.work, "sluice.sqlite")

    def tearDown(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
        self.receiver.stop()
        for log in self.logs:
            log.close()

    def environment(self, service):
        return {"PATH": os.environ["PATH"], "FAKE_KEY": "sk-fake", "OTEL_EXPORTER_OTLP_ENDPOINT": self.receiver.url,
                "OTEL_SERVICE_NAME": service, "OTEL_BSP_SCHEDULE_DELAY": "200"}

    def start_sluice(self, service, arguments, pattern):
        log = open(os.path.join(self.work, f"{service}.log"), "wb")
        self.logs.append(log)
        process, match = started([f"{BIN}/sluice"] + arguments + ["--database", self.database, "--config",
                                  os.path.join(self.work, "config.yaml"), "--log-level", "info"],
                                 self.environment(service), log, pattern)
        self.processes.append(process)
        return process, match

    def test_a_job_posted_with_traceparent_is_one_trace_across_the_api_and_a_worker(self):
        api, match = self.start_sluice("sluice-api", ["serve", "--port", "0", "--no-workers", "--auth", "off"],
                                       r"http://127\.0\.0\.1:(\d+)")
        worker, _ = self.start_sluice("sluice-worker", ["worker", "--concurrency", "4"], r"sluice worker running")
        url = f"http://127.0.0.1:{match.group(1)}"

        trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
        rows = "id,text\n" + "".join(f"{i},review number {i} was {'good' if i % 2 else 'bad'}\n" for i in range(ROWS))
        request = urllib.request.Request(
            url + "/v1/jobs?preset=text-classify&model=gpt-4o-mini", data=rows.encode(), method="POST",
            headers={"Content-Type": "text/csv", "traceparent": f"00-{trace_id}-{caller_span}-01"})
        with urllib.request.urlopen(request) as reply:
            self.assertEqual(reply.status, 202)
            job_id = json.load(reply)["id"]

        def status():
            with urllib.request.urlopen(f"{url}/v1/jobs/{job_id}") as reply:
                job = json.load(reply)
            return job if job["status"] in ("completed", "failed", "cancelled", "expired") else None

        job = poll(f"job {job_id} to finish", status)
        self.assertEqual(job["status"], "completed", job)
        names = lambda: [span["name"] for span in self.receiver.spans(trace_id)]
        poll("the worker's job span", lambda: "job" in names())
        poll("every call's span", lambda: sum(name.startswith("chat ") for name in names()) >= ROWS)

        # A graceful stop flushes what is left (and must not fail).
        for process in (api, worker):
            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(timeout=60), 0)
        spans = self.receiver.spans(trace_id)
        self.assertEqual(self.receiver.paths, {"/v1/traces"})

        http = [s for s in spans if s["service"] == "sluice-api" and s["name"] == "/v1/jobs"]
        self.assertEqual(len(http), 1, spans)
        self.assertEqual(http[0]["parent_span_id"], caller_span, "the request's span continues the caller's")
        self.assertEqual(http[0]["kind"], 2, "SPAN_KIND_SERVER")
        self.assertEqual(http[0]["attributes"].get("http.response.status_code"), 202)

        by_worker = [s for s in spans if s["service"] == "sluice-worker"]
        self.assertTrue(by_worker, "the worker process's spans are in the caller's trace")
        # The HTTP client's own spans (`POST`, with the URL and status) nest in the calls'; the
        # job's spans are children of the request's.
        calls = [s for s in by_worker if s["name"].startswith("chat ")]
        client = [s for s in by_worker if s["name"] == "POST"]
        self.assertEqual(sorted(s["parent_span_id"] for s in client), sorted(s["span_id"] for s in calls))
        for span in by_worker:
            if span not in client:
                self.assertEqual(span["attributes"].get("sluice.job_id"), job_id, span)
                self.assertEqual(span["parent_span_id"], http[0]["span_id"], span)
        named = lambda name: [s for s in by_worker if s["name"] == name]
        self.assertEqual(len(named("ingest")), 1)
        self.assertEqual(named("ingest")[0]["attributes"]["sluice.items"], ROWS)
        self.assertEqual(sum(s["attributes"]["sluice.items"] for s in named("claim")), ROWS)
        self.assertEqual(len(named("job")), 1)
        self.assertEqual(named("job")[0]["attributes"]["sluice.job_status"], "completed")

        self.assertEqual(len(calls), ROWS)
        for call in calls:
            attributes = call["attributes"]
            self.assertEqual(call["kind"], 3, "SPAN_KIND_CLIENT")
            self.assertEqual(attributes["gen_ai.system"], "openai")
            self.assertEqual(attributes["gen_ai.operation.name"], "chat")
            self.assertEqual(call["name"], "chat " + attributes["gen_ai.request.model"])
            self.assertGreater(attributes["gen_ai.usage.input_tokens"], 0)
            self.assertGreater(attributes["gen_ai.usage.output_tokens"], 0)
            self.assertTrue(attributes["gen_ai.response.finish_reasons"], attributes)
        self.assertEqual(sorted(c["attributes"]["sluice.item_index"] for c in calls), list(range(ROWS)))

        # The API's JSON log lines written inside the request carry the trace's ids.
        with open(os.path.join(self.work, "sluice-api.log")) as log:
            lines = [json.loads(line) for line in log if line.startswith("{")]
        created = [line for line in lines if line.get("message") == "job created"]
        self.assertEqual(len(created), 1, lines)
        self.assertEqual(created[0].get("trace_id"), trace_id)
        self.assertEqual(created[0].get("span_id"), http[0]["span_id"])

    def test_sluice_run_makes_one_trace_of_its_job(self):
        path = os.path.join(self.work, "rows.csv")
        with open(path, "w") as rows:
            rows.write("id,text\n" + "".join(f"{i},row {i}\n" for i in range(ROWS)))
        run = subprocess.run(
            [f"{BIN}/sluice", "run", path, "--preset", "text-classify", "--database", self.database,
             "--config", os.path.join(self.work, "config.yaml"), "-o", os.path.join(self.work, "out.jsonl")],
            env=self.environment("sluice-run"), capture_output=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        # The run ends once its job has: its exporter's last batch is sent as it stops.
        with self.receiver.lock:
            spans = [s for s in self.receiver.received if s["service"] == "sluice-run"]
        roots = [s for s in spans if s["name"] == "create job"]
        self.assertEqual(len(roots), 1, spans)
        self.assertEqual(roots[0]["parent_span_id"], "")
        trace = [s for s in spans if s["trace_id"] == roots[0]["trace_id"]]
        self.assertEqual(len(trace), len(spans), "every span of the run is in its job's trace")
        names = [s["name"] for s in trace]
        for name in ("ingest", "claim", "job"):
            self.assertIn(name, names)
        self.assertEqual(sum(name.startswith("chat ") for name in names), ROWS)


if __name__ == "__main__":
    unittest.main()
