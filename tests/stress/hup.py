#!/usr/bin/env python3
"""tests/stress/hup.py PID LOG OUT [TIMEOUT]: sends SIGHUP to PID and waits
(polling every 5 ms, at most TIMEOUT s, default 20) until LOG has a new line
"reload: N domains served, M failed" or "reload: failed".  Writes what the
log gained to OUT and prints "SECONDS SERVED FAILED" (SERVED and FAILED are
"-" when the reload failed, SECONDS is "timeout" when nothing came)."""
import os
import re
import signal
import sys
import time

pid, log, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
limit = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
done = re.compile(rb"reload: (\d+) domains served, (\d+) failed\n|reload: failed[^\n]*\n")

off = os.path.getsize(log)
start = time.monotonic()
os.kill(pid, signal.SIGHUP)
buf, m = b"", None
with open(log, "rb") as f:
    f.seek(off)
    while time.monotonic() - start < limit:
        chunk = f.read()
        if chunk:
            buf += chunk
            m = done.search(buf)
            if m:
                break
        else:
            time.sleep(0.005)
secs = time.monotonic() - start
with open(out, "wb") as o:
    o.write(buf)
if m is None:
    print("timeout - -")
elif m.group(1) is None:
    print(f"{secs:.3f} - -")
else:
    print(f"{secs:.3f} {int(m.group(1))} {int(m.group(2))}")
