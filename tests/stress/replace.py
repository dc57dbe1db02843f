#!/usr/bin/env python3
"""tests/stress/replace.py: files replaced while mta-stsd reloads.

    replace.py --port PORT --ca CAFILE --pid PID --log LOG --policy-dir P
               --cert-dir C --spare S --seconds N

For N seconds (each phase), with SIGHUP every 20 ms and four clients
fetching over new connections all the time:

  policy  a.test.txt is rewritten in a loop between two valid versions,
          by atomic rename and by truncate + one write; every body served
          must be one of the two complete canonical bodies;
  certs   b's certificate and key (C/b.pem, C/b.key) are rewritten in a
          loop between two valid pairs (truncate + one write each, so the
          pair is mismatched in between); every handshake must succeed,
          verified, with one of the two certificates, and the body be b's;
  chunked a.test.txt written line by line (a writer that is not atomic):
          informational, the prefixes served are counted, since a prefix
          that ends on a line may be a valid policy the server cannot tell
          from a finished one.

The policy files' two versions (sources and canonical bodies) are read
from P/../replace/{1,2}.{src,body}.  Prints "ok - ", "FAIL - ", "info - "
lines.  Bounded: 3 phases of N seconds plus 5 s.
"""
import argparse
import os
import re
import signal
import socket
import ssl
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--pid", type=int, required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--policy-dir", required=True)
ap.add_argument("--cert-dir", required=True)
ap.add_argument("--spare", required=True)
ap.add_argument("--versions", required=True)
ap.add_argument("--seconds", type=float, default=4)
ap.add_argument("--writes", default="both", choices=["both", "atomic", "inplace"],
                help="how phase 1 rewrites the policy (default: both, alternately)")
ap.add_argument("--phases", default="policy,certs,chunked")
A = ap.parse_args()

CTX = ssl.create_default_context(cafile=A.ca)
CTX.maximum_version = ssl.TLSVersion.TLSv1_2


def say(kind, msg):
    print(f"{kind} - replace: {msg}", flush=True)


def check(cond, msg, detail=""):
    say("ok" if cond else "FAIL", msg + ("" if cond or not detail else ": " + detail))


def rd(path):
    with open(path, "rb") as f:
        return f.read()


SRC = [rd(os.path.join(A.versions, f"{i}.src")) for i in (1, 2)]
BODY = [rd(os.path.join(A.versions, f"{i}.body")) for i in (1, 2)]
BBODY = rd(os.path.join(A.versions, "b.body"))
APATH = os.path.join(A.policy_dir, "a.test.txt")


def fetch(name, want_der=False):
    """One GET over a new connection: (status line, body, peer cert DER)."""
    s = socket.create_connection(("127.0.0.1", A.port), timeout=3)
    t = CTX.wrap_socket(s, server_hostname=name)
    der = t.getpeercert(binary_form=True) if want_der else None
    t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + name.encode()
              + b"\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = t.recv(65536)
        if not d:
            break
        data += d
    t.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body, der


def write_atomic(path, data):
    tmp = path + ".tmp"          # not DOMAIN.txt: never read as a policy
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def write_inplace(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def write_chunked(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    try:
        for line in data.splitlines(keepends=True):
            os.write(fd, line)
            time.sleep(0.0005)
    finally:
        os.close(fd)


def log_size():
    return os.path.getsize(A.log)


def run_phase(name, writer, fetcher, seconds):
    """writer(i) makes one change; fetcher() returns None or a complaint."""
    stop = time.monotonic() + seconds
    counts = {"writes": 0, "hups": 0, "fetches": 0}
    bad, errors = [], []
    lock = threading.Lock()

    def w():
        i = 0
        while time.monotonic() < stop:
            writer(i)
            i += 1
            counts["writes"] += 1
            time.sleep(0.003)

    def h():
        while time.monotonic() < stop:
            try:
                os.kill(A.pid, signal.SIGHUP)
            except OSError:
                break
            counts["hups"] += 1
            time.sleep(0.02)

    def f():
        while time.monotonic() < stop:
            try:
                r = fetcher()
            except (OSError, ssl.SSLError) as e:
                r = "error " + repr(e)
            with lock:
                counts["fetches"] += 1
                if r is not None:
                    (errors if r.startswith("error") else bad).append(r)
    off = log_size()
    threads = [threading.Thread(target=t) for t in [w, h, f, f, f, f]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 5)
    time.sleep(0.3)
    text = open(A.log, "rb").read()[off:].decode("utf-8", "replace")
    reloads = len(re.findall(r"reload: \d+ domains served", text))
    say("info", f"{name}: {counts['writes']} rewrites, {counts['hups']} SIGHUPs, "
        f"{reloads} reloads completed, {counts['fetches']} fetches")
    return counts, bad, errors, text


def alive():
    try:
        os.kill(A.pid, 0)
        return True
    except OSError:
        return False


# --- phase 1: a policy rewritten atomically and in place -----------------------
def phase_policy():
    # Start from version 1, served: the fetchers accept only the versions.
    write_atomic(APATH, SRC[0])
    os.kill(A.pid, signal.SIGHUP)
    time.sleep(0.3)

    def policy_writer(i):
        data = SRC[i % 2]
        if A.writes == "inplace" or (A.writes == "both" and (i // 2) % 2):
            write_inplace(APATH, data)
        else:
            write_atomic(APATH, data)

    def policy_fetcher():
        status, body, _ = fetch("mta-sts.a.test")
        if status != b"HTTP/1.1 200 OK":
            return f"status {status!r}"
        if body not in BODY:
            return f"body {body!r}"
        return None

    counts, bad, errors, text = run_phase("policy", policy_writer, policy_fetcher, A.seconds)
    check(counts["fetches"] > 50 and not bad,
          f"policy rewritten during reloads: every one of {counts['fetches']} bodies is a complete version",
          f"{len(bad)} not: {bad[:3]}")
    check(not errors, f"policy rewritten during reloads: no fetch failed", f"{len(errors)}: {errors[:3]}")
    half = len(re.findall(r"a\.test\.txt:\d+: error", text))
    say("info", f"policy: half-written files seen and refused by the server: {half} diagnostics "
        f"('keeping the previous policy' {text.count('mta-sts.a.test: keeping the previous policy')} times)")
    check(alive(), "policy rewritten during reloads: server alive")


# --- phase 2: a certificate and its key rewritten in place --------------------
def phase_certs():
    pairs = []
    for stem in ("b", "b2"):
        d = os.path.join(A.spare, stem)
        pem = rd(d + ".pem")
        key = rd(d + ".key")
        der = ssl.PEM_cert_to_DER_cert(re.search(
            rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", pem, re.S).group(0).decode())
        pairs.append((pem, key, der))
    bpem = os.path.join(A.cert_dir, "b.pem")
    bkey = os.path.join(A.cert_dir, "b.key")

    def cert_writer(i):
        pem, key, _ = pairs[i % 2]
        write_inplace(bpem, pem)
        time.sleep(0.001)
        write_inplace(bkey, key)

    def cert_fetcher():
        status, body, der = fetch("mta-sts.b.test", want_der=True)
        if der not in (pairs[0][2], pairs[1][2]):
            return "an unknown certificate"
        if status != b"HTTP/1.1 200 OK" or body != BBODY:
            return f"status {status!r}, body {body[:40]!r}"
        return None

    counts, bad, errors, text = run_phase("certs", cert_writer, cert_fetcher, A.seconds)
    check(counts["fetches"] > 50 and not bad and not errors,
          f"certificate and key rewritten during reloads: all {counts['fetches']} handshakes verified, "
          f"with one of the two certificates, body exact",
          f"{len(bad)} bad {bad[:3]}, {len(errors)} failed {errors[:3]}")
    kept = text.count("mta-sts.b.test: no certificate with a key names mta-sts.b.test; keeping the previous certificate")
    say("info", f"certs: mismatched or half-written pairs seen: 'keeping the previous certificate' {kept} times, "
        f"'incomplete PEM' {text.count('incomplete PEM object')} times")
    check("mta-sts.b.test: not served" not in text, "certificate rewritten: b.test never dropped")
    check(alive(), "certificate rewritten during reloads: server alive")
    # Leave the original pair in place.
    write_inplace(bpem, pairs[0][0])
    write_inplace(bkey, pairs[0][1])


# --- phase 3: a writer that is not atomic at all (informational) ---------------
def phase_chunked():
    prefixes = []

    def chunked_writer(i):
        write_chunked(APATH, SRC[i % 2])

    def chunked_fetcher():
        status, body, _ = fetch("mta-sts.a.test")
        if status == b"HTTP/1.1 200 OK" and body not in BODY:
            prefixes.append(body)
        return None if status == b"HTTP/1.1 200 OK" else f"status {status!r}"

    counts, bad, errors, text = run_phase("chunked", chunked_writer, chunked_fetcher, A.seconds / 2)
    say("info", f"chunked: a policy written line by line (not atomically): {len(prefixes)} of "
        f"{counts['fetches']} fetches got a valid prefix, not a whole version "
        f"(a reader cannot tell a prefix that ends on a line from a finished file "
        f"unless it waits for the file to settle; mta-stsctl writes atomically)")
    check(not errors and not bad, "chunked writer: every fetch answered 200", f"{(bad + errors)[:3]}")
    write_atomic(APATH, SRC[0])
    check(alive(), "chunked writer: server alive")


PHASES = {"policy": phase_policy, "certs": phase_certs, "chunked": phase_chunked}
for name in A.phases.split(","):
    PHASES[name]()
