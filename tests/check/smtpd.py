#!/usr/bin/python3
# tests/check/smtpd.py: STARTTLS SMTP servers for tests/check/check.sh, with
# Debian's python3-aiosmtpd.
#
#   smtpd.py ADDRESS:CERT:KEY ... [plain=ADDRESS] [hang=ADDRESS]
#            [flood=ADDRESS]
#
# Each ADDRESS:CERT:KEY is an SMTP server on ADDRESS port 25 offering
# STARTTLS with that certificate chain and key; plain=ADDRESS one without
# STARTTLS; hang=ADDRESS accepts connections on port 25 and never says a
# word (a timeout); flood=ADDRESS greets with a reply that never ends.
# Runs until killed.
import socket
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def flood(c):
    try:
        while True:
            c.sendall(b"220-" + b"x" * 70 + b"\r\n")
    except OSError:
        c.close()


def listener(addr, talk):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 25))
    s.listen(16)
    held = []
    while True:
        c, _ = s.accept()
        if talk:
            threading.Thread(target=flood, args=(c,), daemon=True).start()
        else:
            held.append(c)


controllers = []
for arg in sys.argv[1:]:
    if arg.startswith("hang=") or arg.startswith("flood="):
        kind, addr = arg.split("=")
        threading.Thread(target=listener, args=(addr, kind == "flood"),
                         daemon=True).start()
        continue
    if arg.startswith("plain="):
        c = Controller(Sink(), hostname=arg[6:], port=25,
                       server_hostname="mx.test")
        c.start()
        controllers.append(c)
        continue
    addr, cert, key = arg.split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    c = Controller(Sink(), hostname=addr, port=25, tls_context=ctx,
                   require_starttls=False, server_hostname="mx.test")
    c.start()
    controllers.append(c)
print("ready", flush=True)
while True:
    time.sleep(3600)
