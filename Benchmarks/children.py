"""What the Python benchmark drivers share about the processes they start."""
import re, sys


def port_of(proc, word, work):
    """The port a child prints on starting: `port N` (the fake) or `… http://HOST:N …` (sluice serve)."""
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"{word} did not start; see {work}")
        found = re.search(r"^port (\d+)|http://[^:]+:(\d+)", line)
        if found:
            return int(found.group(1) or found.group(2))
