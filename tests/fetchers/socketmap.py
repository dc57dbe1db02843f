# tests/fetchers/socketmap.py: one Postfix socketmap query, as Postfix's
# smtp client asks postfix-mta-sts-resolver's mta-sts-daemon.
#
#   python3 socketmap.py HOST PORT "NAME KEY"
#
# Sends the request as a netstring and prints the reply's payload, e.g.
# "OK secure match=mail.example.com servername=hostname" or "NOTFOUND ".
# Exit 1 when the daemon cannot be reached or the reply is malformed.
import socket
import sys

host, port, req = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
try:
    s = socket.create_connection((host, port), timeout=15)
    s.sendall(b"%d:%s," % (len(req), req))
    buf = b""
    while True:
        head, colon, rest = buf.partition(b":")
        if colon and head.isdigit() and len(rest) > int(head):
            n = int(head)
            if rest[n:n + 1] != b",":
                sys.exit("socketmap: bad netstring: %r" % buf)
            print(rest[:n].decode("utf-8", "replace"))
            sys.exit(0)
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("socketmap: connection closed: %r" % buf)
        buf += chunk
except OSError as e:
    sys.exit("socketmap: %s" % e)
