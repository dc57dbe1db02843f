#!/usr/bin/env python3
"""tests/stress/latency.py PORT CAFILE NAME SECONDS: fetches the policy of
NAME over new connections, one after the other, for SECONDS (at most 30),
and prints "N WORST": how many fetches, and the longest in seconds."""
import socket
import ssl
import sys
import time

port, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
req = (b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + name.encode()
       + b"\r\nConnection: close\r\n\r\n")
times, failed = [], 0
end = time.monotonic() + min(float(sys.argv[4]), 30)
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        t = ctx.wrap_socket(s, server_hostname=name)
        t.sendall(req)
        while t.recv(4096):
            pass
        t.close()
    except (OSError, ssl.SSLError):
        failed += 1
    times.append(time.monotonic() - t0)
print(len(times), f"{max(times):.3f}" if times else "-", failed)
