"""Drives Benchmarks/tenants/bench.sh: hostile inputs against a real `sluice serve`."""
import http.client, json, os, re, subprocess, sys, threading, time, zipfile

mode, sluice, work = sys.argv[1:4]


def make_inputs():
    bomb = os.path.join(work, "bomb.xlsx")
    if not os.path.exists(bomb):
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
            z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>text</t></is></c></row>')
                chunk = b" " * (1 << 20)
                for _ in range(1100):  # 1.1 GiB of whitespace: past the 1 GiB sheet limit
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
    record = os.path.join(work, "record.csv")
    if not os.path.exists(record):
        with open(record, "w") as f:
            f.write('text\n"' + "a" * (40 << 20) + '"\n')
    batch = os.path.join(work, "batch.json")
    if not os.path.exists(batch):
        with open(batch, "w") as f:
            line = {"model": "sluice-offline", "max_tokens": 16, "messages": [{"role": "user", "content": "x" * 6000}]}
            f.write('{"requests": [')
            f.write(",".join(json.dumps({"custom_id": f"r{n}", "params": line}) for n in range(10_000)))
            f.write("]}")
    rows = os.path.join(work, "rows.csv")
    if not os.path.exists(rows):
        with open(rows, "w") as f:
            f.write("text\n" + "".join(f"=1+{n} row {n} of a job that is exported\n" for n in range(20_000)))
    return bomb, record, batch, rows


def start(database):
    out = open(os.path.join(work, "serve.out"), "w")
    process = subprocess.Popen(
        [sluice, "serve", "--port", "0", "--database", database, "--uploads", os.path.join(work, "uploads"),
         "--auth", "required", "--rate-limit", "0", "--log-level", "error", "--max-upload-mb", "256"],
        stdout=out, stderr=subprocess.STDOUT)
    for _ in range(400):
        text = open(os.path.join(work, "serve.out")).read()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", text)
        if found:
            return process, int(found.group(1))
        time.sleep(0.05)
    raise SystemExit("the server did not start: " + text)


def key(database, user):
    return subprocess.run([sluice, "keys", "create", "--user", user, "--database", database],
                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]


def signed_in(port, secret):
    """Headers of a signed-in browser for `secret`'s user: its session cookie and form token."""
    token = "0" * 64
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = f"key={secret}&csrf={token}&next=%2F"
    connection.request("POST", "/sign-in", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"sluice_csrf={token}"})
    response = connection.getresponse()
    response.read()
    cookies = dict(value.split(";")[0].split("=", 1) for name, value in response.getheaders() if name.lower() == "set-cookie")
    connection.close()
    if "sluice_session" not in cookies:
        raise SystemExit(f"sign-in failed: {response.status}")
    return cookies["sluice_csrf"], {"Cookie": f"sluice_session={cookies['sluice_session']}; sluice_csrf={cookies['sluice_csrf']}"}


def preview(port, secret, path):
    """POST /jobs/preview of `path` as the page's script sends it, signed in as `secret`'s user."""
    token, cookies = signed_in(port, secret)
    body, headers = form([("csrf", token.encode()), ("preset", b"text-classify")], [(os.path.basename(path), path)])
    headers.update(cookies)
    return call(port, "POST", "/jobs/preview?fragment=1", body, headers)


def peak_rss_mb(process):
    """The server's peak RSS so far, or NaN once it has died (the answer says how)."""
    try:
        status = open(f"/proc/{process.pid}/status").read()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    except (OSError, AttributeError):
        return float("nan")


def call(port, method, path, body=None, headers=None, secret=None, timeout=600):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = dict(headers or {})
    if secret:
        headers["Authorization"] = "Bearer " + secret
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data
    except (ConnectionError, http.client.HTTPException) as error:
        return 0, str(error).encode()
    finally:
        connection.close()


def form(fields, files):
    boundary = "tenantsbench"
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n")
    for name, path in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
                     + open(path, "rb").read() + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def wait_final(port, secret, job, limit=600):
    started = time.time()
    while time.time() - started < limit:
        status, body = call(port, "GET", f"/v1/jobs/{job}", secret=secret)
        state = json.loads(body)
        if state["status"] in ("completed", "completed_with_errors", "failed", "cancelled", "expired", "paused"):
            return state
        time.sleep(0.2)
    return state


def summary(status, body):
    try:
        message = json.loads(body).get("error", {}).get("message") or json.loads(body).get("status", "")
    except Exception:
        message = body[:120].decode(errors="replace")
    return f"{status} {str(message)[:110]}"


def bombs():
    bomb, record, batch, _ = make_inputs()
    print(f"{'input':<46} {'answer':<80} {'peak RSS MB':>11}")

    def run(name, action):
        database = os.path.join(work, f"{abs(hash(name))}.sqlite")
        secret = key(database, "mallory")
        process, port = start(database)
        try:
            answer = action(port, secret)
            time.sleep(1)
            if process.poll() is not None:
                answer = f"the server died (exit {process.returncode}) after: {answer}"[:80]
            print(f"{name:<46} {answer:<80} {peak_rss_mb(process):>11.0f}", flush=True)
        finally:
            process.terminate()
            process.wait()

    def preview_bomb(port, secret):
        status, body = preview(port, secret, bomb)
        found = re.search(rb"unzips to[^<]*", body)
        return f"{status} {(found.group(0).decode() if found else body[:100].decode(errors='replace'))}"

    def job_of(path, name, content_type):
        def action(port, secret):
            status, body = call(port, "POST", "/v1/jobs?preset=text-classify", open(path, "rb").read(), {"Content-Type": content_type}, secret)
            if status != 202:
                return summary(status, body)
            state = wait_final(port, secret, json.loads(body)["id"])
            errors = state.get("errors") or [{}]
            return f"job {state['status']}: line {errors[0].get('line')}: {errors[0].get('message', '')[:70]}"
        return action

    def nested(port, secret):
        tiny = os.path.join(work, "tiny.csv")
        with open(tiny, "w") as f:
            f.write("text\nhi\n")
        body, headers = form([("template", b"{{#a}}" * 40_000)], [("in.csv", tiny)])
        return summary(*call(port, "POST", "/v1/jobs", body, headers, secret))

    def batches(port, secret):
        data = open(batch, "rb").read()
        results = []
        threads = [threading.Thread(target=lambda: results.append(call(port, "POST", "/v1/messages/batches", data,
                                                                       {"Content-Type": "application/json"}, secret)))
                   for _ in range(2)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        return " / ".join(summary(*result)[:38] for result in results)

    def fields(port, secret):
        # 400 MiB of 1 KiB fields, streamed: the server refuses past 100 fields or 4 MiB.
        boundary = "tenantsbench"
        part = (f'--{boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + "x" * 1024 + "\r\n").encode()
        def body():
            for _ in range(400 * 1024):
                yield part
            yield f"--{boundary}--\r\n".encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            connection.putrequest("POST", "/v1/jobs")
            connection.putheader("Authorization", "Bearer " + secret)
            connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for chunk in body():
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
            response = connection.getresponse()
            return summary(response.status, response.read())
        except (ConnectionError, http.client.HTTPException) as error:
            return f"closed while sending ({type(error).__name__})"
        finally:
            connection.close()

    run(f"workbook bomb preview ({os.path.getsize(bomb) / 1e6:.1f} MB, 1.1 GiB sheet)", preview_bomb)
    run("workbook bomb job", job_of(bomb, "bomb.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    run("40 MB CSV of one record", job_of(record, "record.csv", "text/csv"))
    run("40,000 nested template sections", nested)
    run(f"two message batches at once ({os.path.getsize(batch) / 1e6:.0f} MB each)", batches)
    run("400 MiB of form fields", fields)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def load():
    bomb, record, batch, rows = make_inputs()
    database = os.path.join(work, "load.sqlite")
    heavy, light = key(database, "heavy"), key(database, "light")
    process, port = start(database)
    stop = threading.Event()
    health, small = [], []

    def probe():
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = call(port, "GET", "/healthz", timeout=60)
            if status == 200:
                health.append(time.perf_counter() - started)
            time.sleep(0.01)

    def uploads():
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = call(port, "POST", "/v1/jobs?preset=text-classify", b"text\nhello there\n", {"Content-Type": "text/csv"}, light, timeout=60)
            if status == 202:
                small.append(time.perf_counter() - started)
            time.sleep(0.1)

    def heavy_user():
        threads = []
        for _ in range(2):
            threads.append(threading.Thread(target=preview, args=(port, heavy, bomb)))
        threads.append(threading.Thread(target=call, args=(port, "POST", "/v1/jobs?preset=text-classify", open(record, "rb").read(), {"Content-Type": "text/csv"}, heavy)))
        data = open(batch, "rb").read()
        for _ in range(2):
            threads.append(threading.Thread(target=call, args=(port, "POST", "/v1/messages/batches", data, {"Content-Type": "application/json"}, heavy)))

        def job_and_export():
            status, body = call(port, "POST", "/v1/jobs?preset=text-classify", open(rows, "rb").read(), {"Content-Type": "text/csv"}, heavy)
            job = json.loads(body)["id"]
            wait_final(port, heavy, job)
            call(port, "GET", f"/v1/jobs/{job}/results?format=xlsx", secret=heavy)
        threads.append(threading.Thread(target=job_and_export))
        for thread in threads: thread.start()
        for thread in threads: thread.join()

    watchers = [threading.Thread(target=probe), threading.Thread(target=uploads)]
    for thread in watchers: thread.start()
    time.sleep(3)
    idle_health, idle_small = len(health), len(small)
    started = time.time()
    for _ in range(2):
        heavy_user()
    took = time.time() - started
    stop.set()
    for thread in watchers: thread.join()
    print(f"heavy user's requests took {took:.1f} s (twice over); server peak RSS {peak_rss_mb(process):.0f} MB")
    for name, values, idle in (("/healthz", health, idle_health), ("tiny upload", small, idle_small)):
        quiet, busy = values[:idle], values[idle:]
        print(f"{name:<12} idle: median {percentile(quiet, 0.5):.1f} ms, p99 {percentile(quiet, 0.99):.1f} ms | "
              f"under load ({len(busy)}): median {percentile(busy, 0.5):.1f} ms, p99 {percentile(busy, 0.99):.1f} ms, "
              f"max {max(busy) * 1000 if busy else float('nan'):.1f} ms")
    process.terminate()
    process.wait()


{"bombs": bombs, "load": load}[mode]()
