"""The wider OpenAI batch APIs through the official `openai` package, responses validated
strictly: a chunked upload (`uploads.upload_file_chunked`), embeddings and responses batches
whose output lines parse as the SDK's own types, a resumed ranged download, an idempotent
retry, and a webhook received here and verified with `client.webhooks.unwrap`.

SLUICE_URL and SLUICE_KEY name the running server (scripts/system-test.sh starts it with
webhooks.allow_private_targets, so a loopback receiver may be registered).
"""

import io
import json
import os
import time
import unittest

import openai
from openai import OpenAI
from openai.types import CreateEmbeddingResponse
from openai.types.responses import Response
from openai.types.webhooks import BatchCompletedWebhookEvent

from webhook_receiver import Receiver

BASE = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("SLUICE_KEY", "unused")


def client():
    return OpenAI(base_url=BASE + "/v1", api_key=KEY, _strict_response_validation=True, max_retries=0)


def jsonl(lines):
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def wait(sdk, batch_id):
    deadline = time.monotonic() + 120
    while True:
        batch = sdk.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {batch.status}")
        time.sleep(0.2)


# Texts of this run only: the result cache would answer a text seen before, at no cost.
RUN = time.time_ns()


def embedding_line(n):
    return {
        "custom_id": f"e-{n}",
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": "text-embedding-3-small", "input": [f"review {n} of run {RUN}: the food was great", f"review {n}: slow service"]},
    }


class WiderBatchAPIs(unittest.TestCase):
    def test_chunked_upload_then_embeddings_batch(self):
        sdk = client()
        data = jsonl([embedding_line(n) for n in range(2000)])
        self.assertGreater(len(data), 200_000)
        upload = sdk.uploads.upload_file_chunked(
            file=data, filename="embeddings.jsonl", bytes=len(data), mime_type="application/jsonl", purpose="batch",
            part_size=64 * 1024,
        )
        self.assertEqual(upload.status, "completed")
        self.assertEqual(upload.file.bytes, len(data))
        self.assertEqual(sdk.files.content(upload.file.id).read(), data, "the parts join up in order")

        batch = sdk.batches.create(input_file_id=upload.file.id, endpoint="/v1/embeddings", completion_window="24h")
        batch = wait(sdk, batch.id)
        self.assertEqual(batch.status, "completed")
        self.assertEqual(batch.request_counts.completed, 2000)
        self.assertEqual(batch.model, "text-embedding-3-small")
        self.assertGreater(batch.usage.input_tokens, 0)
        lines = sdk.files.content(batch.output_file_id).text.splitlines()
        self.assertEqual(len(lines), 2000)
        first = json.loads(lines[0])
        parsed = CreateEmbeddingResponse.model_validate(first["response"]["body"])
        self.assertEqual([e.index for e in parsed.data], [0, 1])
        self.assertEqual(len(parsed.data[0].embedding), 256)

    def test_responses_batch(self):
        sdk = client()
        lines = [
            {
                "custom_id": f"r-{n}",
                "method": "POST",
                "url": "/v1/responses",
                "body": {"model": "gpt-4.1-mini", "instructions": "Rate the review.", "input": f"Review {n}: lovely staff", "max_output_tokens": 40},
            }
            for n in range(5)
        ]
        uploaded = sdk.files.create(file=("responses.jsonl", io.BytesIO(jsonl(lines))), purpose="batch")
        batch = wait(sdk, sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h").id)
        self.assertEqual(batch.status, "completed")
        self.assertEqual(batch.endpoint, "/v1/responses")
        for line in sdk.files.content(batch.output_file_id).text.splitlines():
            response = Response.model_validate(json.loads(line)["response"]["body"])
            self.assertEqual(response.status, "completed")
            self.assertTrue(response.output_text)

    def test_ranged_download_resumes(self):
        sdk = client()
        data = jsonl([embedding_line(n) for n in range(300)])
        uploaded = sdk.files.create(file=("ranged.jsonl", io.BytesIO(data)), purpose="batch")
        whole = sdk.files.with_raw_response.content(uploaded.id)
        self.assertEqual(whole.headers["accept-ranges"], "bytes")
        etag = whole.headers["etag"]
        # A download broken after 1000 bytes, resumed from there.
        first = data[:1000]
        rest = sdk.files.with_raw_response.content(uploaded.id, extra_headers={"Range": "bytes=1000-", "If-Range": etag})
        self.assertEqual(rest.status_code, 206)
        self.assertEqual(rest.headers["content-range"], f"bytes 1000-{len(data) - 1}/{len(data)}")
        self.assertEqual(first + rest.content, data)

    def test_idempotent_retry(self):
        sdk = client()
        data = jsonl([embedding_line(0)])
        key = {"Idempotency-Key": f"sdk-{time.time_ns()}"}
        one = sdk.files.create(file=("once.jsonl", io.BytesIO(data)), purpose="batch", extra_headers=key)
        two = sdk.files.create(file=("once.jsonl", io.BytesIO(data)), purpose="batch", extra_headers=key)
        self.assertEqual(one.id, two.id)
        with self.assertRaises(openai.ConflictError):
            sdk.files.create(file=("other.jsonl", io.BytesIO(data + data)), purpose="batch", extra_headers=key)

    def test_webhook_verified_by_the_sdk(self):
        sdk = client()
        receiver = Receiver()
        try:
            endpoint = sdk.post("/webhooks", body={"url": receiver.url, "events": ["batch.completed"]}, cast_to=object)
            secret = endpoint["secret"]
            uploaded = sdk.files.create(file=("hook.jsonl", io.BytesIO(jsonl([embedding_line(0)]))), purpose="batch")
            batch = wait(sdk, sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h").id)
            deadline = time.monotonic() + 60
            mine = []
            while not mine:
                mine = [(h, b) for h, b in receiver.deliveries() if json.loads(b)["data"]["id"] == batch.id]
                if time.monotonic() > deadline:
                    raise AssertionError("the webhook never arrived")
                time.sleep(0.1)
            headers, body = mine[0]
            event = sdk.webhooks.unwrap(body, headers, secret=secret)
            self.assertIsInstance(event, BatchCompletedWebhookEvent)
            self.assertEqual(event.data.id, batch.id)
            with self.assertRaises(openai.InvalidWebhookSignatureError):
                sdk.webhooks.unwrap(body + b" ", headers, secret=secret)
            sdk.delete(f"/webhooks/{endpoint['id']}", cast_to=object)
        finally:
            receiver.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
