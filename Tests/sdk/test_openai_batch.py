"""Drives a whole OpenAI Batch API flow through the official `openai` package against a
running Sluice server: upload, create, poll, download, list, cancel, and the error cases.

The server's address comes from SLUICE_URL (scripts/test.sh starts one); every response is
validated strictly by the SDK (`_strict_response_validation=True`).
"""

import io
import json
import os
import time
import unittest

import openai
from openai import OpenAI

BASE = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("SLUICE_KEY", "unused")


def client(key=KEY):
    return OpenAI(base_url=BASE + "/v1", api_key=key, _strict_response_validation=True, max_retries=0)


def request_line(custom_id, text, model="gpt-4o-mini"):
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": model,
            "messages": [
                {"role": "system", "content": "You rate customer messages."},
                {"role": "user", "content": text},
            ],
            "max_tokens": 50,
        },
    }


def jsonl(lines):
    return io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())


def wait(sdk, batch_id, done=("completed", "failed", "cancelled", "expired")):
    # Polls as a client does; the deadline only bounds a broken run.
    deadline = time.monotonic() + 120
    while True:
        batch = sdk.batches.retrieve(batch_id)
        if batch.status in done:
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {batch.status}")
        time.sleep(0.2)


class BatchFlow(unittest.TestCase):
    def test_whole_batch(self):
        sdk = client()
        lines = [request_line(f"req-{n}", f"Message {n}: the support was great, thanks!") for n in range(25)]
        uploaded = sdk.files.create(file=("requests.jsonl", jsonl(lines)), purpose="batch")
        self.assertEqual(uploaded.purpose, "batch")
        self.assertEqual(uploaded.filename, "requests.jsonl")
        self.assertEqual(sdk.files.retrieve(uploaded.id).bytes, uploaded.bytes)
        self.assertEqual(sdk.files.content(uploaded.id).read(), jsonl(lines).getvalue())

        batch = sdk.batches.create(
            input_file_id=uploaded.id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata={"description": "sdk test"},
        )
        self.assertIn(batch.status, ("validating", "in_progress", "completed"))
        self.assertEqual(batch.metadata, {"description": "sdk test"})
        batch = wait(sdk, batch.id)
        self.assertEqual(batch.status, "completed")
        self.assertEqual(batch.request_counts.total, 25)
        self.assertEqual(batch.request_counts.completed, 25)
        self.assertEqual(batch.request_counts.failed, 0)
        self.assertIsNotNone(batch.output_file_id)
        self.assertIsNone(batch.error_file_id)

        output = [json.loads(line) for line in sdk.files.content(batch.output_file_id).text.splitlines()]
        self.assertEqual([line["custom_id"] for line in output], [f"req-{n}" for n in range(25)])
        for line in output:
            self.assertEqual(line["response"]["status_code"], 200)
            body = line["response"]["body"]
            self.assertEqual(body["object"], "chat.completion")
            self.assertTrue(body["choices"][0]["message"]["content"])
            self.assertIsNone(line["error"])

        listed = sdk.batches.list(limit=100)
        self.assertIn(batch.id, [b.id for b in listed.data])
        self.assertIn(uploaded.id, [f.id for f in sdk.files.list().data])
        oldest_first = [f.id for f in sdk.files.list(order="asc", limit=1000).data]
        self.assertEqual(oldest_first, list(reversed([f.id for f in sdk.files.list(order="desc", limit=1000).data])))

        deleted = sdk.files.delete(uploaded.id)
        self.assertTrue(deleted.deleted)
        with self.assertRaises(openai.NotFoundError):
            sdk.files.retrieve(uploaded.id)
        # The batch keeps its results after its input file is gone.
        self.assertEqual(len(sdk.files.content(batch.output_file_id).text.splitlines()), 25)

    def test_invalid_lines_fail_the_batch_with_line_numbers(self):
        sdk = client()
        good = request_line("a", "hello")
        wrong_url = dict(request_line("b", "hello"), url="/v1/embeddings")
        duplicate = request_line("a", "again")
        data = (json.dumps(good) + "\n" + "{not json\n" + json.dumps(wrong_url) + "\n" + json.dumps(duplicate) + "\n").encode()
        uploaded = sdk.files.create(file=("bad.jsonl", io.BytesIO(data)), purpose="batch")
        batch = sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
        batch = wait(sdk, batch.id)
        self.assertEqual(batch.status, "failed")
        errors = {(e.line, e.code) for e in batch.errors.data}
        self.assertIn((2, "invalid_json_line"), errors)
        self.assertIn((3, "invalid_url"), errors)
        self.assertIn((4, "duplicate_custom_id"), errors)
        self.assertIsNone(batch.output_file_id)

    def test_lines_route_by_model_to_a_remote_provider(self):
        # "slow-*" routes to the fake OpenAI-compatible provider the test script started.
        sdk = client()
        lines = [request_line(f"r-{n}", f"question {n}", model="slow-model") for n in range(3)]
        uploaded = sdk.files.create(file=("remote.jsonl", jsonl(lines)), purpose="batch")
        batch = wait(sdk, sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id)
        self.assertEqual(batch.status, "completed")
        output = [json.loads(line) for line in sdk.files.content(batch.output_file_id).text.splitlines()]
        self.assertEqual(len(output), 3)
        total = 0
        for line in output:
            self.assertEqual(line["response"]["body"]["model"], "slow-model")
            self.assertGreater(line["response"]["body"]["usage"]["total_tokens"], 0)
            total += line["response"]["body"]["usage"]["total_tokens"]
        self.assertEqual(batch.usage.total_tokens, total)

    def test_cancel(self):
        # Each call to the fake takes seconds, so the cancel lands while nearly all are pending.
        sdk = client()
        lines = [request_line(f"c-{n}", f"text {n}", model="slow-model") for n in range(500)]
        uploaded = sdk.files.create(file=("many.jsonl", jsonl(lines)), purpose="batch")
        batch = sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
        running = wait(sdk, batch.id, done=("in_progress", "completed", "failed"))
        self.assertEqual(running.status, "in_progress")
        self.assertEqual(running.request_counts.total, 500)
        cancelled = sdk.batches.cancel(batch.id)
        self.assertIn(cancelled.status, ("cancelling", "cancelled"))
        batch = wait(sdk, batch.id)
        self.assertEqual(batch.status, "cancelled")
        counts = batch.request_counts
        self.assertEqual(counts.total, 500)
        self.assertEqual(counts.total, counts.completed + counts.failed)
        self.assertGreater(counts.failed, 0)
        self.assertIsNotNone(batch.error_file_id)
        errors = [json.loads(line) for line in sdk.files.content(batch.error_file_id).text.splitlines()]
        self.assertEqual(len(errors), counts.failed)
        self.assertTrue(all(line["error"]["code"] == "batch_cancelled" for line in errors))

    def test_refusals(self):
        with self.assertRaises(openai.AuthenticationError):
            client("sk-sluice-wrong").batches.list()
        sdk = client()
        with self.assertRaises(openai.NotFoundError):
            sdk.batches.retrieve("batch_doesnotexist")
        with self.assertRaises(openai.BadRequestError):
            sdk.batches.create(input_file_id="file-missing", endpoint="/v1/completions", completion_window="24h")
        with self.assertRaises(openai.NotFoundError):
            sdk.batches.create(input_file_id="file-missing", endpoint="/v1/chat/completions", completion_window="24h")


if __name__ == "__main__":
    unittest.main(verbosity=2)
