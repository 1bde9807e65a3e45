"""Anthropic's Message Batches through the official `anthropic` package, responses validated
strictly: create, poll, results, list, cancel, delete, and the refusals in Anthropic's shape.

SLUICE_URL and SLUICE_KEY name the running server; models `slow-*` go to a fake provider that
takes seconds a call (so a cancel lands mid-batch), all others to the built-in one.
"""

import os
import time
import unittest

import anthropic
from anthropic import Anthropic

BASE = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("SLUICE_KEY", "unused")


def client(key=KEY):
    return Anthropic(base_url=BASE, api_key=key, _strict_response_validation=True, max_retries=0)


def request(custom_id, text, model="claude-haiku-4-5"):
    return {
        "custom_id": custom_id,
        "params": {"model": model, "max_tokens": 64, "system": "Rate the review.", "messages": [{"role": "user", "content": text}]},
    }


def wait_ended(sdk, batch_id):
    deadline = time.monotonic() + 120
    while True:
        batch = sdk.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended":
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"message batch {batch_id} still {batch.processing_status}")
        time.sleep(0.2)


class MessageBatches(unittest.TestCase):
    def test_create_poll_results_list_delete(self):
        sdk = client()
        batch = sdk.messages.batches.create(requests=[request(f"req-{n}", f"Review {n}: great value") for n in range(20)])
        self.assertEqual(batch.type, "message_batch")
        self.assertEqual(batch.processing_status, "in_progress")
        self.assertEqual(batch.request_counts.processing, 20, "counts are live, not zero until the end")
        ended = wait_ended(sdk, batch.id)
        self.assertEqual(ended.request_counts.succeeded, 20)
        self.assertIsNotNone(ended.ended_at)
        results = list(sdk.messages.batches.results(batch.id))
        self.assertEqual(sorted(r.custom_id for r in results), sorted(f"req-{n}" for n in range(20)))
        for entry in results:
            self.assertEqual(entry.result.type, "succeeded")
            self.assertEqual(entry.result.message.role, "assistant")
            self.assertTrue(entry.result.message.content[0].text)
        self.assertIn(batch.id, [b.id for b in sdk.messages.batches.list(limit=100).data])
        deleted = sdk.messages.batches.delete(batch.id)
        self.assertEqual(deleted.type, "message_batch_deleted")
        with self.assertRaises(anthropic.NotFoundError):
            sdk.messages.batches.retrieve(batch.id)

    def test_cancel(self):
        sdk = client()
        batch = sdk.messages.batches.create(requests=[request(f"c-{n}", f"text {n}", model="slow-model") for n in range(300)])
        cancelling = sdk.messages.batches.cancel(batch.id)
        self.assertIn(cancelling.processing_status, ("canceling", "ended"))
        ended = wait_ended(sdk, batch.id)
        counts = ended.request_counts
        self.assertGreater(counts.canceled, 0)
        self.assertEqual(counts.succeeded + counts.errored + counts.canceled + counts.expired, 300)
        kinds = [r.result.type for r in sdk.messages.batches.results(batch.id)]
        self.assertEqual(kinds.count("canceled"), counts.canceled)

    def test_refusals(self):
        sdk = client()
        with self.assertRaises(anthropic.BadRequestError) as refused:
            sdk.messages.batches.create(requests=[{"custom_id": "x", "params": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}])
        self.assertIn("requests.0.params.max_tokens", str(refused.exception))
        with self.assertRaises(anthropic.AuthenticationError):
            client("sk-sluice-wrong").messages.batches.list()
        with self.assertRaises(anthropic.NotFoundError):
            sdk.messages.batches.retrieve("msgbatch_missing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
