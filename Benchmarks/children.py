"""What the Python benchmark drivers share about the processes they start."""
import http.client, json, os, re, sys


def port_of(proc, word, work):
    """The port a child prints on starting: `port N` (the fake) or `… http://HOST:N …` (sluice serve)."""
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"{word} did not start; see {work}")
        found = re.search(r"^port (\d+)|http://[^:]+:(\d+)", line)
        if found:
            return int(found.group(1) or found.group(2))


def fake_provider_config(work, fake_url, limits, extra=""):
    """Writes the providers file that names the fake as provider `fake` (an OpenAI-compatible
    one, key in FAKE_KEY) with `limits` ({"rpm": …, "tpm": …}; zeros left out) and any further
    YAML lines; returns its path."""
    told = ", ".join(f"{name}: {value:g}" for name, value in limits.items() if value > 0)
    path = os.path.join(work, "providers.yaml")
    with open(path, "w") as f:
        f.write(f"""providers:
  fake:
    kind: openai
    base_url: {fake_url}/v1
    api_key_env: FAKE_KEY
    limits: {{{told}}}
{extra}""")
    return path


def call(port, method, path, body=None, headers=None, secret=None, timeout=60):
    """One request to a Sluice on this machine (with `secret` as its bearer key, if given):
    the status and the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = dict(headers or {})
    if secret:
        headers["Authorization"] = "Bearer " + secret
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data)
