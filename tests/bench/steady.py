#!/usr/bin/env python3
"""steady.py: a client fetching steadily, for tests/bench/bench.sh.

    steady.py PORT CAFILE COUNT SECONDS STOPFILE

Fetches the policy of a random domain among d00001.example ..
dCOUNT.example (mta-sts.DOMAIN on 127.0.0.1:PORT, over TLS 1.2 trusting
CAFILE, a new connection each time: the snapshot a reload publishes is
the one new connections get), every 5 ms, until STOPFILE exists or
SECONDS pass.  Each fetch must answer 200 with that domain's mx line.
Prints "n N failed F p50_ms A p99_ms B max_ms C" and the first failures.
"""
import os
import random
import socket
import ssl
import sys
import time


def fetch(ctx, port, dom):
    host = "mta-sts." + dom
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as conn:
            conn.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
                         b"Host: " + host.encode() +
                         b"\r\nConnection: close\r\n\r\n")
            buf = b""
            while True:
                d = conn.recv(4096)
                if not d:
                    break
                buf += d
    if not buf.startswith(b"HTTP/1.1 200 ") or \
            b"mx: mail." + dom.encode() not in buf:
        raise ValueError("%s: %r" % (dom, buf[:80]))


def main():
    port, cafile = int(sys.argv[1]), sys.argv[2]
    count, secs, stop = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    lat, fails = [], []
    end = time.monotonic() + secs
    while time.monotonic() < end and not os.path.exists(stop):
        dom = "d%05d.example" % random.randint(1, count)
        t0 = time.monotonic()
        try:
            fetch(ctx, port, dom)
        except (OSError, ssl.SSLError, ValueError) as e:
            fails.append(str(e))
        lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.005)
    lat.sort()
    n = len(lat)
    pick = lambda q: lat[min(n - 1, int(q * n))] if n else float("nan")
    print("n %d failed %d p50_ms %.2f p99_ms %.2f max_ms %.2f" %
          (n, len(fails), pick(0.5), pick(0.99), lat[-1] if n else 0))
    for f in fails[:5]:
        print("failure:", f)


if __name__ == "__main__":
    main()
