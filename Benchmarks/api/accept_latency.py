"""Time from the last uploaded byte to Sluice's `202 Accepted`, over raw loopback TCP.

Sends the request head and all of the body but its last byte, then starts the clock, sends
the last byte and stops the clock when the status line arrives. Prints p50, p90 and max.

    python3 accept_latency.py URL FILE [RUNS]
"""

import socket
import statistics
import sys
import time
from urllib.parse import urlsplit


def accept_once(url, body):
    parts = urlsplit(url)
    head = (
        f"POST {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head + body[:-1])
        started = time.perf_counter()
        sock.sendall(body[-1:])
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
        elapsed = time.perf_counter() - started
    status = reply.split(b" ", 2)[1].decode()
    if status != "202":
        raise SystemExit(f"expected 202, got {reply[:200]!r}")
    return elapsed


def main():
    url, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    body = open(path, "rb").read()
    accept_once(url, body)  # warm-up
    times = sorted(accept_once(url, body) * 1000 for _ in range(runs))
    print(
        f"last byte -> 202 for {len(body) / 1e6:.1f} MB: p50 {statistics.median(times):.1f} ms, "
        f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, max {times[-1]:.1f} ms ({runs} runs)"
    )


if __name__ == "__main__":
    main()
