"""What the Python benchmark drivers share about the processes they start."""
import os, re, sys


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
