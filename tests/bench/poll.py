#!/usr/bin/env python3
"""poll.py: waits for a server to answer, for tests/bench/bench.sh.

    poll.py PORT HOST CAFILE SECONDS [CHAIN.pem]

Connects to 127.0.0.1:PORT with HOST as SNI, again and again, until the
policy is answered with 200 over a certificate that CAFILE trusts; with
CHAIN.pem, also until the certificate served is the first one of that
file.  Prints the time of success in milliseconds since the epoch, to be
compared with the time of the exec or the signal, and exits 0; exits 1
when SECONDS pass first.  One process polls every 2 ms: starting a
client per attempt would cost more than the server's answer.
"""
import socket
import ssl
import sys
import time


def attempt(ctx, port, host, want):
    with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as conn:
            if want is not None and conn.getpeercert(True) != want:
                return False
            conn.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
                         b"Host: " + host.encode() +
                         b"\r\nConnection: close\r\n\r\n")
            return conn.recv(12).startswith(b"HTTP/1.1 200")


def main():
    port, host, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    end = time.monotonic() + float(sys.argv[4])
    want = None
    if len(sys.argv) > 5:
        with open(sys.argv[5]) as f:
            first = f.read().split(ssl.PEM_FOOTER)[0] + ssl.PEM_FOOTER
            want = ssl.PEM_cert_to_DER_cert(first.strip())
    ctx = ssl.create_default_context(cafile=cafile)
    while time.monotonic() < end:
        try:
            if attempt(ctx, port, host, want):
                print(int(time.time() * 1000))
                return
        except (OSError, ssl.SSLError):
            pass
        time.sleep(0.002)
    sys.exit(1)


if __name__ == "__main__":
    main()
