"""A 1 GiB file up and down through the official SDK; see bench.sh."""
import json, os, sys, time
from openai import OpenAI

url, work, server = sys.argv[1], sys.argv[2], sys.argv[3]
sdk = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)
path = os.path.join(work, "big.jsonl")
with open(path, "w") as f:
    n, size = 0, 0
    while size < 1 << 30:
        line = json.dumps({"custom_id": f"e-{n}", "method": "POST", "url": "/v1/embeddings",
                           "body": {"model": "text-embedding-3-small", "input": f"review {n}: the food was great but the wait was long"}}) + "\n"
        f.write(line)
        size += len(line)
        n += 1
size = os.path.getsize(path)
mb = size / 1e6


def peak_rss():
    with open(f"/proc/{server}/status") as status:
        return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmHWM"))


start = time.monotonic()
with open(path, "rb") as f:
    single = sdk.files.create(file=("big.jsonl", f), purpose="batch")
one = time.monotonic() - start
print(f"file           {size} bytes ({n} lines)")
print(f"files.create   {one:.1f} s  {mb / one:.0f} MB/s")

start = time.monotonic()
upload = sdk.uploads.upload_file_chunked(file=__import__("pathlib").Path(path), mime_type="application/jsonl", purpose="batch",
                                         part_size=64 << 20)
chunked = time.monotonic() - start
assert upload.status == "completed" and upload.file.bytes == size, upload
print(f"upload_file_chunked (64 MiB parts, join included)  {chunked:.1f} s  {mb / chunked:.0f} MB/s")

# The same steps by hand, timed apart: the parts, then the join.
start = time.monotonic()
manual = sdk.uploads.create(bytes=size, filename="big.jsonl", mime_type="application/jsonl", purpose="batch")
ids = []
with open(path, "rb") as f:
    while data := f.read(64 << 20):
        ids.append(sdk.uploads.parts.create(upload_id=manual.id, data=data).id)
parts = time.monotonic() - start
start = time.monotonic()
joined = sdk.uploads.complete(upload_id=manual.id, part_ids=ids)
join = time.monotonic() - start
assert joined.file.bytes == size
print(f"  by hand: {len(ids)} parts {parts:.1f} s ({mb / parts:.0f} MB/s), join {join:.1f} s ({mb / join:.0f} MB/s)")

start = time.monotonic()
total = 0
with sdk.files.with_streaming_response.content(upload.file.id) as response:
    for chunk in response.iter_bytes(1 << 20):
        total += len(chunk)
down = time.monotonic() - start
assert total == size
print(f"download       {down:.1f} s  {mb / down:.0f} MB/s")

half = size // 2
start = time.monotonic()
rest = 0
with sdk.files.with_streaming_response.content(upload.file.id, extra_headers={"Range": f"bytes={half}-"}) as response:
    assert response.http_response.status_code == 206, response.http_response.status_code
    for chunk in response.iter_bytes(1 << 20):
        rest += len(chunk)
resumed = time.monotonic() - start
assert rest == size - half
print(f"resume at half {resumed:.1f} s  {(size - half) / 1e6 / resumed:.0f} MB/s")
print(f"server peak RSS {peak_rss()} MB")
