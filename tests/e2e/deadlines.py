#!/usr/bin/env python3
"""tests/e2e/deadlines.py PORT CAFILE NAME: a server with handshake, request and
keep-alive timeouts of 1 s and a lifetime of 3 s closes each kind of stalled
connection within its deadline.  Prints one "ok - " or "FAIL - " line per
check; bounded: no check waits more than 8 s."""
import socket
import ssl
import sys
import time

port, cafile, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2


def closed_after(sock, limit=8.0):
    """Seconds until the peer closes sock (reads and drops data)."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError, OSError):
        pass
    return time.monotonic() - start


def report(what, secs, low, high):
    if low <= secs <= high:
        print(f"ok - {what} ({secs:.1f} s)")
    else:
        print(f"FAIL - {what}: closed after {secs:.1f} s, expected {low}-{high}")


# A TCP connection that never says anything: the handshake deadline.
s = socket.create_connection(("127.0.0.1", port))
# Under 2.5 s: the 3 s lifetime must not be what closes it.
report("silent connection closed at the handshake deadline", closed_after(s), 0.5, 2.5)

# Half a request after the handshake: the request deadline, not reset by bytes.
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=name)
start = time.monotonic()
t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n")
t.settimeout(0.4)
closed = False
for _ in range(6):
    try:
        t.sendall(b"X-Slow: 1\r\n")
        if t.recv(1) == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except (OSError, ssl.SSLError):
        closed = True
        break
secs = time.monotonic() - start if closed else closed_after(t) + time.monotonic() - start
report("slowloris headers closed at the request deadline", secs, 0.5, 3.5)

# Idle after one answered request: the keep-alive deadline.
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=name)
t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
t.settimeout(3)
data = t.recv(4096)
if not data.startswith(b"HTTP/1.1 200"):
    print("FAIL - keep-alive request not answered:", data[:40])
report("idle keep-alive connection closed", closed_after(t), 0.3, 3.0)

# Requests every 0.5 s: busy, but the lifetime ends it.
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=name)
start = time.monotonic()
t.settimeout(1)
answers = 0
try:
    while time.monotonic() - start < 8:
        t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
        data = t.recv(4096)
        if not data:
            break
        answers += data.count(b"HTTP/1.1 200")
        time.sleep(0.5)
except (OSError, ssl.SSLError):
    pass
secs = time.monotonic() - start
if answers >= 3:
    report(f"busy connection closed at its lifetime after {answers} answers", secs, 2.5, 5.0)
else:
    print(f"FAIL - busy connection: only {answers} answers")
