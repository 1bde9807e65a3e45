"""/healthz latency while large uploads stream in (Benchmarks/hardening/bench.sh healthz).

Probes GET /healthz every 10 ms on one keep-alive connection: for 5 s idle, then while
UPLOADS raw CSV uploads of SIZE_MB each stream into POST /v1/jobs at once. Prints median,
p99 and max latency for both windows, and the uploads' wall time and status codes.
"""
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
        response.read()
    results[index] = response.status
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
elapsed = time.perf_counter() - started
stop.set()
prober.join()
stats("idle", idle)
stats(f"during {uploads} x {size >> 20} MB uploads", busy)
print(f"uploads: {elapsed:.1f} s, statuses {results}")
