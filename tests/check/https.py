#!/usr/bin/python3
# tests/check/https.py: a policy host that does what mta-stsd never does,
# for tests/check/check.sh.  Listens on ADDRESS port 443 with one certificate
# and answers by the Host header:
#
#   mta-sts.redirect.test  301 to another URL
#   mta-sts.html.test      the policy as text/html
#   mta-sts.big.test       a text/plain body of 70,000 bytes
#   mta-sts.hazard.test    a valid policy with LF line ends, a blank line
#                          and a comment
#   mta-sts.broken.test    an invalid policy (version STSv2)
#   mta-sts.chunked.test   the good.test policy in a chunked body
#   anything else          the good.test policy (for a name mismatch)
#
#   https.py ADDRESS CERT KEY
import http.server
import ssl
import sys

GOOD = (b"version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\n"
        b"max_age: 1209600\r\n")
BODIES = {
    "mta-sts.html.test": ("text/html", GOOD),
    "mta-sts.big.test": ("text/plain", b"#" * 70000),
    "mta-sts.hazard.test": ("text/plain",
                            b"version: STSv1\nmode: testing\n\n# mx\n"
                            b"mx: mx.good.test\nmax_age: 1209600\n"),
    "mta-sts.broken.test": ("text/plain",
                            b"version: STSv2\r\nmode: enforce\r\n"
                            b"mx: mx.good.test\r\nmax_age: 1209600\r\n"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        if host == "mta-sts.redirect.test":
            self.send_response(301)
            self.send_header("Location", "https://elsewhere.test/policy")
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        if host == "mta-sts.chunked.test":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for part in (GOOD[:20], GOOD[20:]):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
            return
        ctype, body = BODIES.get(host, ("text/plain", GOOD))
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")


addr, cert, key = sys.argv[1:4]
srv = http.server.ThreadingHTTPServer((addr, 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
