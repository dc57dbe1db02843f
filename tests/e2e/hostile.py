#!/usr/bin/env python3
"""tests/e2e/hostile.py PORT CAFILE NAME: hostile HTTP over TLS, each answered
as a careful server answers: the status wanted, exactly one response where
the request is malformed, and the connection closed after it.  Prints one
"ok - " or "FAIL - " line per case; every read is bounded (3 s)."""
import socket
import ssl
import sys

port, cafile, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host = name.encode()
ctx = ssl.create_default_context(cafile=cafile)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
P = b"/.well-known/mta-sts.txt"


def exchange(raw):
    """Sends raw, returns (all bytes read, closed by the server?)."""
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=name)
    s.sendall(raw)
    s.settimeout(3)
    data, closed = b"", False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    except (OSError, ssl.SSLError):
        closed = True
    s.close()
    return data, closed


CASES = [
    # name, request bytes, wanted status, must the server close after it?
    ("NUL in the path (%00)", b"GET " + P + b"%00 HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, True),
    ("NUL then an extension (%00.html)", b"GET " + P + b"%00.html HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, True),
    ("raw NUL in the request line", b"GET " + P + b"\x00 HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, True),
    ("NUL in a header value", b"GET " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nX-A: a\x00b\r\n\r\n", 400, True),
    ("two Content-Lengths", b"GET " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", 400, True),
    ("Content-Length with Transfer-Encoding", b"GET " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, True),
    ("unknown Transfer-Encoding", b"POST " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nTransfer-Encoding: xchunked\r\n\r\n", 400, True),
    ("two Host headers", b"GET " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nHost: " + host + b"\r\n\r\n", 400, True),
    ("Host a@b", b"GET " + P + b" HTTP/1.1\r\nHost: a@b\r\n\r\n", 400, False),
    ("header line without a colon", b"GET " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nNoColon\r\n\r\n", 400, True),
    ("HTTP/0.9 request", b"GET " + P + b"\r\n\r\n", 400, True),
    ("POST with Expect: 100-continue gets 405, no 100", b"POST " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", 405, True),
    ("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, True),
    ("POST with a body", b"POST " + P + b" HTTP/1.1\r\nHost: " + host + b"\r\nContent-Length: 5\r\n\r\nhello", 405, True),
]

for what, raw, want, close in CASES:
    data, closed = exchange(raw)
    statuses = [line for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    first = statuses[0].split(b" ")[1].decode() if statuses and len(statuses[0].split(b" ")) > 1 else "none"
    problems = []
    if first != str(want):
        problems.append(f"status {first}, wanted {want}")
    if len(statuses) != 1:
        problems.append(f"{len(statuses)} responses")
    if close and not closed:
        problems.append("connection left open")
    if b"100 Continue" in data:
        problems.append("sent 100 Continue")
    print(("FAIL - " + what + ": " + ", ".join(problems)) if problems else ("ok - hostile: " + what))
