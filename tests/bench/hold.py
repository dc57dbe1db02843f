#!/usr/bin/env python3
"""hold.py: holds idle TLS connections open, for tests/bench/bench.sh.

    hold.py HOST PORT COUNT SERVER_NAME [SECONDS]

Opens COUNT connections, one after the other; on each, a full TLS 1.2
handshake with SERVER_NAME as SNI (certificate not checked: the bench
measures memory, not trust) and one keep-alive GET of the policy, read to
its end.  Then prints "held N" and keeps every connection open, idle,
for SECONDS (default 60) or until it is killed.  A failed connection is an
error: it prints "failed N: why" and exits 1.
"""
import resource
import socket
import ssl
import sys
import time


def get(conn, name):
    """One GET, read to the end of its Content-Length body."""
    conn.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " +
                 name.encode() + b"\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("closed before the response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError(head.split(b"\r\n")[0].decode(errors="replace"))
    length = 0
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("closed in the body")
        body += chunk


def main():
    host, port, count, name = sys.argv[1], int(sys.argv[2]), \
        int(sys.argv[3]), sys.argv[4]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    held = []
    for i in range(count):
        try:
            raw = socket.create_connection((host, port), timeout=10)
            conn = ctx.wrap_socket(raw, server_hostname=name)
            get(conn, name)
        except (OSError, ValueError) as e:
            print("failed %d: %s" % (i, e), flush=True)
            sys.exit(1)
        held.append(conn)
    print("held %d" % len(held), flush=True)
    time.sleep(float(sys.argv[5]) if len(sys.argv) > 5 else 60)


if __name__ == "__main__":
    main()
