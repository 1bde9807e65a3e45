"""A 100,000-request Anthropic Message Batch through the official SDK; see bench.sh."""
import sys, time
import anthropic

url, server = sys.argv[1], sys.argv[2]
sdk = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0, timeout=600)
requests = [{"custom_id": f"r-{n}", "params": {"model": "claude-haiku-4-5", "max_tokens": 64,
                                               "messages": [{"role": "user", "content": f"Review {n}: the staff were lovely"}]}}
            for n in range(100_000)]
start = time.monotonic()
batch = sdk.messages.batches.create(requests=requests)
created = time.monotonic() - start
while batch.processing_status != "ended":
    time.sleep(0.5)
    batch = sdk.messages.batches.retrieve(batch.id)
ended = time.monotonic() - start
with open(f"/proc/{server}/status") as status:
    rss = next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmHWM"))
counts = batch.request_counts
print(f"create         {created:.1f} s for 100,000 requests (checked, kept, answered)")
print(f"ended          {ended:.1f} s after the create began: {counts.succeeded} succeeded, {counts.errored} errored")
print(f"server peak RSS {rss} MB")
results = sum(1 for _ in sdk.messages.batches.results(batch.id))
print(f"results        {results} lines")
