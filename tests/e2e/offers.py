#!/usr/bin/env python3
"""tests/e2e/offers.py PORT NAME SUITE...: one TLS handshake per cipher suite
(OpenSSL names) with 127.0.0.1:PORT, server name NAME, offering that suite
alone, TLS 1.0 to 1.2, at OpenSSL security level 0: the client accepts
whatever it can, so that only the server can refuse.  The certificate is
not verified (what is negotiated is the question).  One line a suite:

    accepted SUITE VERSION CIPHER     the handshake completed
    refused SUITE REASON              the server refused it with an alert
    client SUITE REASON               the client could not offer it, or
                                      failed by itself: not the server's
                                      refusal
    error SUITE WHAT                  no TLS answer at all
"""
import socket
import ssl
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

port, name = int(sys.argv[1]), sys.argv[2]
for suite in sys.argv[3:]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.set_ciphers(suite + ":@SECLEVEL=0")
    except ssl.SSLError as e:
        print("client", suite, "cannot offer it:", e.reason, flush=True)
        continue
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as t:
                print("accepted", suite, t.version(), t.cipher()[0], flush=True)
    except ssl.SSLError as e:
        # An alert the server sent is named ..._ALERT_...; anything else
        # is the client's own doing.
        kind = "refused" if "ALERT" in (e.reason or "") else "client"
        print(kind, suite, e.reason, flush=True)
    except OSError as e:
        print("error", suite, e, flush=True)
