#!/usr/bin/env python3
"""Starts a server in its own session and times its cold start.

Usage: start_server.py HEALTH_URL LOG_FILE -- COMMAND...

Prints "PID MILLISECONDS": the server's pid (the caller stops it by that pid) and the
time from exec to the first 200 from HEALTH_URL, polled every 2 ms. Gives up after 60 s.
"""

import subprocess
import sys
import time
import urllib.request


def main():
    url, log = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    with open(log, "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    while time.monotonic() - started < 60:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    elapsed = (time.monotonic() - started) * 1000
                    print(f"{proc.pid} {elapsed:.1f}")
                    return
        except OSError:
            pass
        time.sleep(0.002)
    proc.terminate()
    sys.exit(f"no 200 from {url} within 60 s")


if __name__ == "__main__":
    main()
