"""/healthz latency while large uploads stream in (Benchmarks/hardening/bench.sh healthz).

Probes GET /healthz every 10 ms on one keep-alive connection: for 5 s idle, then while
UPLOADS raw CSV uploads stream into POST /v1/jobs at once, then while the server reads them
into items (until every job has left `validating`, at most INGEST_SECONDS). Prints median, p99
and max latency for each window, the uploads' wall time and the ingest's.
"""
import json
import http.client
import os
import sys
import threading
import time
from urllib.parse import urlparse

url = urlparse(sys.argv[1])
path = sys.argv[2]
uploads = int(os.environ.get("UPLOADS", "4"))
size = os.path.getsize(path)


def probe(stop, samples):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    conn.close()


def upload(results, index):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    with open(path, "rb") as f:
        conn.request("POST", "/v1/jobs?preset=text-classify", body=f,
                     headers={"Content-Type": "text/csv", "Content-Length": str(size)})
        response = conn.getresponse()
        body = response.read()
    results[index] = (response.status, json.loads(body).get("id"))
    conn.close()


def stats(name, samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    print(f"{name}: {len(ordered)} probes, median {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {ordered[-1]:.1f} ms")


idle, busy = [], []
stop = threading.Event()
prober = threading.Thread(target=probe, args=(stop, idle))
prober.start()
time.sleep(5)
stop.set()
prober.join()

stop = threading.Event()
prober = threading.Thread(target=probe, args=(stop, busy))
prober.start()
results = [None] * uploads
started = time.perf_counter()
threads = [threading.Thread(target=upload, args=(results, i)) for i in range(uploads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
uploaded = time.perf_counter() - started
stop.set()
prober.join()

reading = []
stop = threading.Event()
prober = threading.Thread(target=probe, args=(stop, reading))
prober.start()
started = time.perf_counter()
limit = float(os.environ.get("INGEST_SECONDS", "120"))
watch = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
waiting = [job for status, job in results if status == 202]
while waiting and time.perf_counter() - started < limit:
    still = []
    for job in waiting:
        watch.request("GET", f"/v1/jobs/{job}")
        state = json.loads(watch.getresponse().read())["status"]
        if state == "validating":
            still.append(job)
    waiting = still
    time.sleep(0.5)
ingested = time.perf_counter() - started
stop.set()
prober.join()
stats("idle", idle)
stats(f"during {uploads} x {size >> 20} MB uploads", busy)
stats("while they are read into items", reading)
print(f"uploads: {uploaded:.1f} s, statuses {[status for status, _ in results]}; "
      f"read in {ingested:.1f} s{' (still reading at the limit)' if waiting else ''}")
