"""Webhook delivery that outlives its receiver and its server: the receiver is down while
batches end, the server is killed mid-retry and started again on the same database, the
receiver comes up — and every event arrives, each under the `webhook-id` its failed tries
carried, verified by the official `openai` SDK's `webhooks.unwrap`.

Starts its own `sluice serve` (SLUICE_BIN names the folder of the built binaries) with a
short retry schedule, so the test waits seconds, not hours.
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from openai import OpenAI

from webhook_receiver import Receiver

BIN = os.environ.get("SLUICE_BIN", ".build/debug")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(what, condition, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        time.sleep(0.1)


class Server:
    def __init__(self, work):
        self.log = open(os.path.join(work, "serve.log"), "ab")
        self.process = subprocess.Popen(
            [f"{BIN}/sluice", "serve", "--port", "0", "--database", os.path.join(work, "sluice.sqlite"), "--config",
             os.path.join(work, "config.yaml"), "--auth", "off", "--rate-limit", "0", "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.process.stdout.readline().decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            raise AssertionError(f"the server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"
        self.sdk = OpenAI(base_url=self.url + "/v1", api_key="unused", _strict_response_validation=True, max_retries=0)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


class DeliveryOutlivesOutages(unittest.TestCase):
    def test_every_event_arrives_after_the_receiver_and_the_server_come_back(self):
        work = tempfile.mkdtemp()
        with open(os.path.join(work, "config.yaml"), "w") as config:
            config.write("webhooks:\n  allow_private_targets: true\n  timeout_seconds: 2\n  retry_seconds: [0.5, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n")
        receiver_port = free_port()
        server = Server(work)
        endpoint = server.sdk.post(
            "/webhooks", body={"url": f"http://127.0.0.1:{receiver_port}/hook", "events": ["batch.completed", "job.completed"]},
            cast_to=object)
        line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "e", "input": "hello"}}
        batches = []
        for n in range(3):
            uploaded = server.sdk.files.create(file=(f"in{n}.jsonl", json.dumps(line).encode() + b"\n"), purpose="batch")
            batches.append(server.sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h").id)

        def deliveries(s):
            return s.sdk.get(f"/webhooks/{endpoint['id']}/deliveries", cast_to=object)["data"]

        # Every ending queued and tried at least twice against the receiver that is not there.
        failing = poll("three deliveries failing twice each",
                       lambda: (d := deliveries(server)) and len(d) == 3 and all(len(x["attempts"]) >= 2 for x in d) and d)
        self.assertTrue(all(x["status"] == "pending" for x in failing))
        self.assertTrue(all(a["error"] and a["status_code"] is None for x in failing for a in x["attempts"]))
        ids = {x["id"]: x["subject"] for x in failing}
        self.assertEqual(sorted(ids.values()), sorted(batches))

        server.kill()
        receiver = Receiver(receiver_port)
        try:
            server = Server(work)
            arrived = poll("every event to arrive", lambda: len({h["webhook-id"] for h, _ in receiver.deliveries()}) >= 3 and receiver.deliveries())
            self.assertEqual({h["webhook-id"] for h, _ in arrived}, set(ids), "the ids the failed tries carried")
            for headers, body in arrived:
                event = server.sdk.webhooks.unwrap(body, headers, secret=endpoint["secret"])
                self.assertEqual(event.type, "batch.completed")
                self.assertEqual(event.data.id, ids[headers["webhook-id"]])
            done = poll("the deliveries to be recorded", lambda: (d := deliveries(server)) and all(x["status"] == "delivered" for x in d) and d)
            for delivery in done:
                self.assertEqual(delivery["attempts"][-1]["status_code"], 200)
            server.stop()
        finally:
            receiver.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
