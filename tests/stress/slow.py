#!/usr/bin/env python3
"""tests/stress/slow.py: slow and greedy clients against a running mta-stsd.

    slow.py --case CASE --port PORT --ca CAFILE --name HOST --pid PID
            --body FILE --log FILE [--hs S --rt S --ka S --life S] [-n N]

CASE is one of silent, halfhello, dribble, idletls, slowloris, pipeline,
limit.  Each case opens its connections, and while they are held:

  - a normal client (curl) must get its policy, byte-exact, in under 1 s
    (curl's %{time_total});
  - the server's descriptors (/proc/PID/fd) and VmRSS are measured;
  - every stalled connection must be closed by the server within its
    deadline (the client never closes first; a close is seen as the TCP
    state of either end leaving ESTABLISHED, so that nothing has to be
    read);
  - afterwards descriptors come back to the baseline (+2) and RSS to the
    baseline plus RSS_SLACK_KB (default 4096 kB: malloc may keep some).

The server's debug log (--log) gives the reason of each close, which must
be the deadline the case is about.  Prints "ok - ", "FAIL - " and
"info - " lines; every wait is bounded: a case holds its connections
for at most its deadline plus 3 s, each connect or read waits at most 5 s.
"""
import argparse
import concurrent.futures
import os
import re
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SLACK = 1.0             # seconds past a deadline: 250 ms sweeps, polling
EARLY = 0.3             # closed this much before the deadline is a bug
TCP_ESTABLISHED = 1
RSS_SLACK_KB = int(os.environ.get("RSS_SLACK_KB", "4096"))

ap = argparse.ArgumentParser()
ap.add_argument("--case", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--name", required=True)
ap.add_argument("--pid", type=int, required=True)
ap.add_argument("--body", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--hs", type=float, default=3)
ap.add_argument("--rt", type=float, default=3)
ap.add_argument("--ka", type=float, default=4)
ap.add_argument("--life", type=float, default=8)
ap.add_argument("--max", type=int, default=500)
ap.add_argument("-n", type=int, default=0)
A = ap.parse_args()

ADDR = ("127.0.0.1", A.port)
BODY = open(A.body, "rb").read()
HOST = A.name.encode()
REQ = b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + HOST + b"\r\n\r\n"
CTX = ssl.create_default_context(cafile=A.ca)
CTX.maximum_version = ssl.TLSVersion.TLSv1_2
TMP = tempfile.mkdtemp(prefix="stress-slow.")
failed = 0


def say(kind, msg):
    global failed
    if kind == "FAIL":
        failed += 1
    print(f"{kind} - {A.case}: {msg}", flush=True)


def check(cond, msg, detail=""):
    say("ok" if cond else "FAIL", msg + ("" if cond or not detail else ": " + detail))
    return cond


# --- the client's own limits -------------------------------------------------

def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        cap = int(open("/proc/sys/fs/nr_open").read())
    except OSError:
        cap = hard
    want = min(want, cap)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- the server, seen from /proc --------------------------------------------

def srv_fds():
    try:
        return len(os.listdir(f"/proc/{A.pid}/fd"))
    except OSError:
        return -1


def srv_rss():
    try:
        for line in open(f"/proc/{A.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def srv_alive():
    try:
        for line in open(f"/proc/{A.pid}/status"):
            if line.startswith("State:"):
                return "Z" not in line.split()[1]
    except OSError:
        pass
    return False


def log_size():
    try:
        return os.path.getsize(A.log)
    except OSError:
        return 0


def log_since(off):
    with open(A.log, "rb") as f:
        f.seek(off)
        return f.read().decode("utf-8", "replace")


def close_reasons(text):
    reasons = {}
    for m in re.finditer(r"conn: \S+: closed: ([^\n]+)", text):
        reasons[m.group(1)] = reasons.get(m.group(1), 0) + 1
    return reasons


# --- the normal client --------------------------------------------------------

class Curls:
    """curl fetches in threads, so that the hold loop keeps polling."""

    def __init__(self):
        self.results = []
        self.threads = []
        self.n = 0

    def _one(self, expect_ok):
        self.n += 1
        path = os.path.join(TMP, f"curl.{self.n}")
        p = subprocess.run(
            ["curl", "-sS", "--max-time", "5", "--cacert", A.ca,
             "--resolve", f"{A.name}:{A.port}:127.0.0.1", "-o", path,
             "-w", "%{http_code} %{time_total}",
             f"https://{A.name}:{A.port}/.well-known/mta-sts.txt"],
            capture_output=True, text=True, timeout=10)
        try:
            code, total = p.stdout.split()
            total = float(total)
        except ValueError:
            code, total = "none", 99.0
        try:
            body = open(path, "rb").read()
        except OSError:
            body = b""
        self.results.append((code, total, body == BODY, p.returncode,
                             p.stderr.strip()))

    def start(self, expect_ok=True):
        t = threading.Thread(target=self._one, args=(expect_ok,))
        t.start()
        self.threads.append(t)

    def join(self):
        for t in self.threads:
            t.join(12)

    def report(self, what="during the load"):
        self.join()
        bad = [r for r in self.results if r[0] != "200" or r[1] >= 1.0 or not r[2]]
        times = ", ".join(f"{r[1]:.3f}" for r in self.results)
        check(self.results and not bad,
              f"{what}: a normal client gets its policy byte-exact in < 1 s "
              f"({len(self.results)} fetches, time_total {times} s)",
              f"bad: {bad}")


# --- connections ---------------------------------------------------------------

class Conn:
    __slots__ = ("sock", "t0", "tref", "tclose", "state", "sent", "got",
                 "pending", "nextsend", "kind", "cport")

    def __init__(self, sock, t0, kind=""):
        self.sock, self.t0, self.tref = sock, t0, t0
        self.cport = sock.getsockname()[1]
        self.tclose = None
        self.state = TCP_ESTABLISHED
        self.sent = self.got = 0
        self.pending = b""
        self.nextsend = 0.0
        self.kind = kind


def tcp_state(sock):
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return 0


def server_side_open():
    """The client ports whose server-side socket is still ESTABLISHED
    (/proc/net/tcp).  A socket the server closed while its answers wait
    for a zero window never shows the client a FIN: this is how such a
    close is seen."""
    suffix = ":%04X" % A.port
    ports = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split(None, 4)
            if parts[3] == "01" and parts[1].endswith(suffix):
                ports.add(int(parts[2].rsplit(":", 1)[1], 16))
    return ports


def client_hello():
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = CTX.wrap_bio(inc, outg, server_hostname=A.name)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()


def tcp_connect(rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    t0 = time.monotonic()
    s.connect(ADDR)
    return s, t0


def tls_connect(rcvbuf=0):
    s, t0 = tcp_connect(rcvbuf)
    t = CTX.wrap_socket(s, server_hostname=A.name)
    return t, t0


def mark_closed(conns):
    """Marks (and closes on our side) the connections the server closed;
    returns those still open."""
    now = time.monotonic()
    sopen = server_side_open()
    live = []
    for c in conns:
        if c.tclose is not None:
            continue
        st = tcp_state(c.sock)
        if st != TCP_ESTABLISHED or c.cport not in sopen:
            c.tclose, c.state = now, st
            try:
                c.sock.close()
            except OSError:
                pass
        else:
            live.append(c)
    return live


def hold(conns, until, tick=None):
    """Polls every 50 ms until the server closed every connection or the
    time is up; tick(open, now) runs each turn.  Returns those still open."""
    live = mark_closed(conns)
    while live and time.monotonic() < until:
        live = mark_closed(live)
        if tick is not None and live:
            tick(live, time.monotonic())
        time.sleep(0.05)
    return live


def spread(vals):
    if not vals:
        return "none"
    return (f"min {min(vals):.2f} s, median {statistics.median(vals):.2f} s, "
            f"max {max(vals):.2f} s")


def judge_closes(conns, what, deadline, low=None, high=None):
    """Every connection closed by the server, within [low, high] seconds
    of its reference time (default: the deadline, minus EARLY, plus SLACK)."""
    low = deadline - EARLY if low is None else low
    high = deadline + SLACK if high is None else high
    open_ = [c for c in conns if c.tclose is None]
    secs = [c.tclose - c.tref for c in conns if c.tclose is not None]
    early = [s for s in secs if s < low]
    late = [s for s in secs if s > high]
    check(not open_, f"all {len(conns)} {what} closed by the server "
          f"({len(conns) - len(open_)} closed)", f"{len(open_)} still open")
    check(secs and not early and not late,
          f"{what} closed within the deadline of {deadline:g} s "
          f"(closes after {spread(secs)}; allowed {low:.2f}-{high:.2f} s)",
          f"{len(early)} too early, {len(late)} too late")
    for c in open_:
        try:
            c.sock.close()
        except OSError:
            pass


def settle_baseline():
    """The server at rest: descriptors stable for 0.5 s (at most 3 s)."""
    end = time.monotonic() + 3
    prev = srv_fds()
    while time.monotonic() < end:
        time.sleep(0.25)
        cur = srv_fds()
        if cur == prev:
            break
        prev = cur
    return srv_fds(), srv_rss()


def back_to_baseline(base_fd, base_rss, peak_fd, peak_rss, wait=3.0):
    end = time.monotonic() + wait
    fd = srv_fds()
    while fd > base_fd + 2 and time.monotonic() < end:
        time.sleep(0.1)
        fd = srv_fds()
    time.sleep(0.3)
    fd, rss = srv_fds(), srv_rss()
    say("info", f"server fds: baseline {base_fd}, during {peak_fd}, after {fd}; "
        f"VmRSS kB: baseline {base_rss}, during {peak_rss}, after {rss} "
        f"(+{rss - base_rss})")
    check(0 <= fd <= base_fd + 2, f"descriptors back to baseline ({base_fd} -> {peak_fd} -> {fd})")
    check(0 <= rss <= base_rss + RSS_SLACK_KB,
          f"memory back to baseline + {RSS_SLACK_KB} kB ({base_rss} -> {peak_rss} -> {rss} kB)")
    check(srv_alive(), "server alive")


class Peak:
    def __init__(self):
        self.fd, self.rss = srv_fds(), srv_rss()

    def sample(self):
        self.fd = max(self.fd, srv_fds())
        self.rss = max(self.rss, srv_rss())


def reasons_check(off, want, n):
    r = close_reasons(log_since(off))
    say("info", "server close reasons: " + (", ".join(f"{k} x{v}" for k, v in sorted(r.items())) or "none logged"))
    if want is not None:
        got = sum(r.get(w, 0) for w in want)
        check(got >= n, f"the server's log gives {' or '.join(want)} for the {n} connections ({got})")


# --- cases -------------------------------------------------------------------

def listen_overflows():
    """TcpExt ListenOverflows: handshakes dropped with a full accept queue."""
    try:
        lines = [l.split() for l in open("/proc/net/netstat") if l.startswith("TcpExt:")]
        return int(lines[1][lines[0].index("ListenOverflows")])
    except (OSError, ValueError, IndexError):
        return -1


def open_parallel(n, opener, what, workers=8):
    """Opens n connections from a few threads (TLS handshakes release the
    interpreter lock), so that 1,000 of them take well under a deadline."""
    conns, errors = [], []
    lo = listen_overflows()
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        pending = {ex.submit(opener) for _ in range(n)}
        while pending:
            done, pending = concurrent.futures.wait(
                pending, timeout=0.05, return_when=concurrent.futures.FIRST_COMPLETED)
            for f in done:
                try:
                    conns.append(f.result())
                except (OSError, ssl.SSLError) as e:
                    errors.append(repr(e))
            # Closes while the last ones open are timed as they happen.
            mark_closed(conns)
    secs = time.monotonic() - t
    check(not errors, f"{len(conns)} {what} opened in {secs:.2f} s",
          f"{len(errors)} failed: {errors[:3]}")
    lo2 = listen_overflows()
    if lo >= 0 and lo2 > lo:
        say("info", f"{lo2 - lo} handshakes overflowed the accept queue while opening")
    return conns


def open_many(n, opener, what, pace=200):
    """Opens n connections, pausing after each pace of them until the
    server has accepted them (its descriptors grew; at most 2 s), so that
    the accept queue (1024) never overflows: a dropped handshake would make
    the server's clock start up to a second after ours."""
    conns, errors = [], []
    base = srv_fds()
    lo = listen_overflows()
    t = time.monotonic()
    for i in range(n):
        try:
            conns.append(opener())
        except (OSError, ssl.SSLError) as e:
            errors.append(repr(e))
        if (i + 1) % pace == 0:
            end = time.monotonic() + 2
            while srv_fds() < base + len(conns) and time.monotonic() < end:
                time.sleep(0.01)
            mark_closed(conns)
    secs = time.monotonic() - t
    check(not errors, f"{len(conns)} {what} opened in {secs:.2f} s",
          f"{len(errors)} failed: {errors[:3]}")
    lo2 = listen_overflows()
    if lo >= 0 and lo2 > lo:
        say("info", f"{lo2 - lo} handshakes overflowed the accept queue while opening")
    return conns


def during(peak, curls, conns, tick, deadline):
    """Holds the connections: curls at 0.2, 0.9 and 1.6 s (every deadline is
    later), peaks sampled each turn, until all closed or deadline + 3 s."""
    start = time.monotonic()
    plan = [start + 0.2, start + 0.9, start + 1.6]

    def turn(live, now):
        peak.sample()
        while plan and now >= plan[0]:
            plan.pop(0)
            curls.start()
        if tick is not None:
            tick(live, now)
    peak.sample()
    return hold(conns, start + deadline + 3, turn)


def case_silent():
    n = A.n or 2000
    raise_nofile(n + 512)
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()

    def opener():
        s, t0 = tcp_connect()
        return Conn(s, t0)
    conns = open_many(n, opener, "silent TCP connections")
    during(peak, curls, conns, None, A.hs)
    curls.report()
    say("info", f"server fds during: {peak.fd} (baseline {base_fd})")
    check(peak.fd >= base_fd + n * 9 // 10, f"the server held the connections ({peak.fd} fds)")
    judge_closes(conns, "silent connections", A.hs)
    reasons_check(off, ["handshake timeout"], len(conns))
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


def case_halfhello():
    n = A.n or 1000
    raise_nofile(n + 512)
    hello = client_hello()
    half = hello[: len(hello) // 2]
    say("info", f"ClientHello of {len(hello)} bytes, {len(half)} sent")
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()

    def opener():
        s, t0 = tcp_connect()
        s.sendall(half)
        return Conn(s, t0)
    conns = open_many(n, opener, "half ClientHellos")
    during(peak, curls, conns, None, A.hs)
    curls.report()
    judge_closes(conns, "half ClientHellos", A.hs)
    reasons_check(off, ["handshake timeout"], len(conns))
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


def case_dribble():
    n = A.n or 200
    raise_nofile(n + 512)
    hello = client_hello()
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()

    def opener():
        s, t0 = tcp_connect()
        s.setblocking(False)
        s.send(hello[:1])
        c = Conn(s, t0)
        c.sent, c.nextsend = 1, t0 + 2.0
        return c
    conns = open_many(n, opener, "ClientHellos sent a byte every 2 s")

    def tick(live, now):
        for c in live:
            if now >= c.nextsend and c.sent < len(hello):
                try:
                    c.sock.send(hello[c.sent:c.sent + 1])
                    c.sent += 1
                except OSError:
                    pass
                c.nextsend += 2.0
    # Without an absolute handshake deadline they would last until the
    # lifetime: the bound is the handshake deadline, well before it.
    during(peak, curls, conns, tick, A.hs)
    curls.report()
    sent = [c.sent for c in conns]
    say("info", f"bytes of ClientHello sent before the close: {min(sent)}-{max(sent)}")
    judge_closes(conns, "byte-a-second-ClientHellos", A.hs)
    reasons_check(off, ["handshake timeout"], len(conns))
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


def case_idletls():
    n = A.n or 1000
    raise_nofile(n + 512)
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()

    def opener():
        t, t0 = tls_connect()
        return Conn(t, t0)
    conns = open_parallel(n, opener, "idle TLS connections (handshake done, no request)")
    # Idle after the handshake: keepalive_timeout from the accept.
    during(peak, curls, conns, None, A.ka)
    curls.report()
    judge_closes(conns, "idle TLS connections", A.ka)
    reasons_check(off, ["idle timeout"], len(conns))
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


def case_slowloris():
    n = A.n or 500
    raise_nofile(n + 512)
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()
    head = b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + HOST + b"\r\n"

    def opener():
        t, t0 = tls_connect()
        t.sendall(head)
        c = Conn(t, t0)
        c.tref = time.monotonic()       # the request deadline starts here
        c.nextsend = c.tref + 1.0
        t.setblocking(False)
        return c
    conns = open_parallel(n, opener, "slowloris connections (a header line a second)")

    def tick(live, now):
        for c in live:
            if now >= c.nextsend:
                try:
                    c.sock.send(b"X-Slow-%d: 1\r\n" % c.sent)
                    c.sent += 1
                except (OSError, ssl.SSLError):
                    pass
                c.nextsend += 1.0
    during(peak, curls, conns, tick, A.rt)
    curls.report()
    sent = [c.sent for c in conns]
    say("info", f"header lines sent after the request line: {min(sent)}-{max(sent)}")
    judge_closes(conns, "slowloris connections", A.rt)
    reasons_check(off, ["request timeout"], len(conns))
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


def case_pipeline():
    """Pipelined requests whose answers are never read (the client's receive
    buffer 4 kB): a burst in one TLS record then silence, and a stream that
    keeps sending while the socket takes it.  Unread answers stall the
    connection: the request or idle deadline ends it, the lifetime at the
    latest.  Beside them, busy connections (a request every 0.5 s, answers
    read) last until their lifetime; and afterwards, clients that pipeline
    and read their answers slowly must get every one."""
    nburst = nstream = (A.n or 200) // 2
    nbusy = 20
    cap = 128 * 1024            # bytes of requests one stream sends at most
    raise_nofile(nburst + nstream + nbusy + 512)
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak, curls = Peak(), Curls()
    batch = REQ * 32
    burst = REQ * 200           # 13 kB: one TLS record

    def push(c):
        """Sends whole batches until the socket is full or cap is reached."""
        while c.sent < cap:
            if not c.pending:
                c.pending = batch
            try:
                k = c.sock.send(c.pending)
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                return
            except (OSError, ssl.SSLError):
                return
            c.sent += k
            c.pending = c.pending[k:]

    def bursty():
        t, t0 = tls_connect(rcvbuf=4096)
        t.sendall(burst)
        return Conn(t, t0, "burst")

    def stream():
        t, t0 = tls_connect(rcvbuf=4096)
        t.setblocking(False)
        c = Conn(t, t0, "stream")
        push(c)
        c.nextsend = time.monotonic() + 0.5
        return c

    def busy():
        t, t0 = tls_connect()
        t.setblocking(False)
        c = Conn(t, t0, "busy")
        c.nextsend = t0
        return c
    bursts = open_many(nburst, bursty, "connections sending 200 pipelined requests in one record, reading nothing")
    streams = open_many(nstream, stream, "connections pipelining requests as long as the socket takes them, reading nothing")
    sent = [c.sent for c in streams]
    say("info", "request bytes the streams sent before their sockets filled: "
        + spread(sent).replace(" s", "").replace(".00", ""))
    busies = open_many(nbusy, busy, "busy connections (a request every 0.5 s, answers read)")

    def tick(live, now):
        for c in live:
            if c.kind == "burst":
                continue
            if c.kind == "stream":
                if now >= c.nextsend:
                    push(c)
                    c.nextsend = now + 0.5
                continue
            try:
                while True:
                    d = c.sock.recv(65536)
                    if not d:
                        break
                    c.got += d.count(b"HTTP/1.1 200 OK")
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (OSError, ssl.SSLError):
                pass
            if now >= c.nextsend:
                try:
                    c.sock.send(REQ)
                except (OSError, ssl.SSLError):
                    pass
                c.nextsend = now + 0.5
    during(peak, curls, bursts + streams + busies, tick, A.life)
    curls.report()
    low = min(A.rt, A.ka) - EARLY
    judge_closes(bursts, "burst-pipelining connections", A.life, low=low, high=A.life + SLACK)
    judge_closes(streams, "stream-pipelining connections", A.life, low=low, high=A.life + SLACK)
    got = [c.got for c in busies]
    check(min(got) >= 5, f"busy connections were served until the end ({min(got)}-{max(got)} answers each)")
    judge_closes(busies, "busy connections", A.life)
    r = close_reasons(log_since(off))
    say("info", "server close reasons: " + (", ".join(f"{k} x{v}" for k, v in sorted(r.items())) or "none logged"))
    deadline = sum(r.get(k, 0) for k in ("request timeout", "idle timeout", "connection lifetime reached"))
    want = nburst + nstream + nbusy
    check(deadline >= want,
          f"every connection was ended by a deadline the log names ({deadline} of {want}; "
          f"{want - deadline if deadline < want else 0} ended otherwise, with no reason logged)")
    check(r.get("connection lifetime reached", 0) >= nbusy,
          f"the busy ones end at their lifetime ({r.get('connection lifetime reached', 0)} lifetime closes)")
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)
    # Pipelining clients that read their answers, slowly: every answer.
    results = [slow_reader(500) for _ in range(5)]
    check(all(r == 500 for r in results),
          f"clients pipelining 500 requests and reading slowly get every answer (answers: {results})")


def slow_reader(n):
    """Sends n requests, 25 at a time, reading the answers 4 kB at a time
    in between (one thread: an SSL socket must not be read and written
    at once from two); returns how many answers came (at most 5 s)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(3)
    s.connect(ADDR)
    t = CTX.wrap_socket(s, server_hostname=A.name)
    t.settimeout(0.05)
    data, count, sent = b"", 0, 0
    end = time.monotonic() + 5
    try:
        while count < n and time.monotonic() < end:
            if sent < n and sent - count < 100:
                k = min(25, n - sent)
                t.sendall(REQ * k)
                sent += k
            try:
                d = t.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            if not d:
                break
            data += d
            count = data.count(b"HTTP/1.1 200")
            time.sleep(0.0005)
    except (OSError, ssl.SSLError):
        pass
    t.close()
    return count


def tls_request(c, timeout=3.0):
    """One request on an established connection (blocking): 200 and the body?"""
    c.sock.settimeout(timeout)
    c.sock.sendall(REQ)
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        d = c.sock.recv(65536)
        if not d:
            break
        data += d
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            m = re.search(rb"Content-Length: (\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                return head.startswith(b"HTTP/1.1 200") and rest[: int(m.group(1))] == BODY
    return False


def case_limit():
    """A server started with max_connections = A.max: that many established
    connections, then more refused at once, the established ones unharmed."""
    m = A.max
    extra = A.n or 300
    raise_nofile(m + extra + 512)
    base_fd, base_rss = settle_baseline()
    off = log_size()
    peak = Peak()

    def est():
        t, t0 = tls_connect()
        return Conn(t, t0)
    conns = open_parallel(m, est, f"established TLS connections (the limit, {m})")
    ok1 = sum(1 for c in conns if tls_request(c))
    check(ok1 == len(conns), f"each of the {len(conns)} established connections is answered ({ok1})")
    peak.sample()
    # Beyond the limit: accepted and closed at once, nothing sent.
    refused, lingered, answered = 0, 0, 0
    t = time.monotonic()
    for _ in range(extra):
        try:
            s, t0 = tcp_connect()
        except OSError:
            refused += 1
            continue
        s.settimeout(1.0)
        try:
            d = s.recv(1)
            if d:
                answered += 1
            else:
                refused += 1
        except socket.timeout:
            lingered += 1
        except OSError:
            refused += 1
        s.close()
    secs = time.monotonic() - t
    check(refused == extra, f"{extra} connections beyond the limit are refused at once "
          f"({refused} refused in {secs:.2f} s)", f"{lingered} left hanging, {answered} got bytes")
    tls_fail = 0
    for _ in range(20):
        try:
            t, _ = tls_connect()
            t.close()
        except (OSError, ssl.SSLError):
            tls_fail += 1
    check(tls_fail == 20, f"TLS handshakes beyond the limit fail ({tls_fail}/20)")
    c = Curls()
    c.start()
    c.join()
    code, total = c.results[0][0], c.results[0][1]
    check(code != "200" and total < 1.0, f"a normal client beyond the limit is refused quickly, not queued "
          f"(curl: {code}, {total:.3f} s)")
    peak.sample()
    ok2 = sum(1 for c in conns if tls_request(c))
    check(ok2 == len(conns), f"after the refusals, each established connection is still answered ({ok2})")
    text = log_since(off)
    check(f"connection limit ({m}) reached; refusing" in text,
          f"the log says 'connection limit ({m}) reached; refusing'")
    # Room again once some go.
    for c in conns[:100]:
        c.sock.close()
    time.sleep(0.3)
    c = Curls()
    c.start()
    c.report("after 100 established connections closed")
    for c in conns[100:]:
        c.sock.close()
    back_to_baseline(base_fd, base_rss, peak.fd, peak.rss)


CASES = {
    "silent": case_silent,
    "halfhello": case_halfhello,
    "dribble": case_dribble,
    "idletls": case_idletls,
    "slowloris": case_slowloris,
    "pipeline": case_pipeline,
    "limit": case_limit,
}

if __name__ == "__main__":
    t = time.monotonic()
    try:
        CASES[A.case]()
    except Exception as e:      # a harness error is a failure, not a crash
        say("FAIL", f"harness error: {e!r}")
    say("info", f"case took {time.monotonic() - t:.1f} s")
    sys.exit(1 if failed else 0)
