"""Webhook deliveries through a receiver that refuses 30% of them; see bench.sh."""
import datetime, http.server, json, os, random, sys, threading, time, urllib.request

url = sys.argv[1]
random.seed(7)
received = {}
tries = [0]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            tries[0] += 1
            refuse = random.random() < float(os.environ.get("REFUSE", "0.3"))
            if not refuse:
                event = json.loads(body)
                received.setdefault(self.headers["webhook-id"], []).append((time.time(), event))
        self.send_response(503 if refuse else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # Python's default backlog of 5 drops connections 16 tries at once make: a receiver's
    # limit, not Sluice's.
    request_queue_size = 128


receiver = Server(("127.0.0.1", 0), Handler)
threading.Thread(target=receiver.serve_forever, daemon=True).start()


def call(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(url + path, method=method, data=body, headers={"Content-Type": content_type})
    return json.load(urllib.request.urlopen(request))


call("POST", "/v1/webhooks", json.dumps({"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                                         "events": ["job.completed"]}).encode())
count = 200
jobs = [call("POST", "/v1/jobs?preset=text-classify", f"text\nreview {n}: lovely\n".encode(), "text/csv")["id"] for n in range(count)]
ended = {}
deadline = time.time() + 300
while len(ended) < count and time.time() < deadline:
    for job in jobs:
        if job not in ended:
            state = call("GET", f"/v1/jobs/{job}")
            if state["finished_at"]:
                ended[job] = datetime.datetime.fromisoformat(state["finished_at"].replace("Z", "+00:00")).timestamp()
    time.sleep(0.2)
while sum(1 for _ in received) < count and time.time() < deadline:
    time.sleep(0.1)
latencies = []
twice = 0
for deliveries in received.values():
    first, event = deliveries[0]
    twice += len(deliveries) - 1
    # finished_at is whole seconds, cut down: the latency is up to a second too long.
    latencies.append(first - ended[event["data"]["id"]])
latencies.sort()
print(f"events         {len(received)} of {count} received, {count - len(received)} not, {twice} received twice")
print(f"tries          {tries[0]} ({tries[0] - len(received)} refused by the receiver)")
print(f"latency        end → received: p50 {latencies[len(latencies) // 2]:.1f} s, "
      f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} s, max {latencies[-1]:.1f} s (finished_at has whole seconds)")
