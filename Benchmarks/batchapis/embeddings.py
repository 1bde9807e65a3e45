"""An embeddings batch against the faulty, TPM-limited fake; see bench.sh."""
import io, json, os, sys, time, urllib.request
from openai import OpenAI

url, fake = sys.argv[1], sys.argv[2]
sdk = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)
count = int(os.environ.get("EMBEDDINGS_COUNT", "20000"))
lines = "".join(json.dumps({"custom_id": f"e-{n}", "method": "POST", "url": "/v1/embeddings",
                            "body": {"model": "text-embedding-3-small",
                                     "input": [f"review {n}: the food was great", f"review {n}: the wait was long"]}}) + "\n"
                for n in range(count))
uploaded = sdk.files.create(file=("embeddings.jsonl", io.BytesIO(lines.encode())), purpose="batch")
start = time.monotonic()
batch = sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
while batch.status not in ("completed", "failed", "cancelled", "expired"):
    time.sleep(0.5)
    batch = sdk.batches.retrieve(batch.id)
elapsed = time.monotonic() - start
stats = json.load(urllib.request.urlopen(fake + "/_fake/counters"))
seconds = sorted(int(s) for s in stats["accepted_per_second"])
span = (seconds[-1] - seconds[0] + 1) / 60
tokens = stats["accepted_tokens"]
print(f"batch          {batch.status}: {batch.request_counts.completed} of {batch.request_counts.total} "
      f"({batch.request_counts.failed} failed) in {elapsed:.1f} s")
print(f"tokens         {tokens} accepted over {span * 60:.0f} s: {tokens / span:.0f} a minute against 100000 "
      f"(the first minute may use a whole minute's worth at once)")
print(f"calls          received {stats['received']}, 429 {stats['rate_limited']}, faults {stats['faults']}, "
      f"answered well {stats['succeeded']}, items succeeded {batch.request_counts.completed}, "
      f"paid twice {stats['succeeded'] - batch.request_counts.completed}")
per10 = {}
for second, n in stats["accepted_per_second"].items():
    per10[int(second) // 10 * 10] = per10.get(int(second) // 10 * 10, 0) + n
print("accepted per 10 s  " + " ".join(f"{per10[k]}" for k in sorted(per10)))
