#!/usr/bin/env python3
"""tests/e2e/notify.py MTA_STSD CONF: starts mta-stsd -d with $NOTIFY_SOCKET
set to a socket of ours, sends SIGHUP then SIGTERM once it says READY=1,
and prints every message it sent, in order, then its exit status.  Waits
at most 10 s in all."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

binary, conf = sys.argv[1], sys.argv[2]
path = os.path.join(tempfile.mkdtemp(), "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(os.path.dirname(path), 0o755)
os.chmod(path, 0o777)       # the daemon sends after dropping to its user
sock.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path)
proc = subprocess.Popen([binary, "-d", "-f", conf], env=env,
                        stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 10
sent = []
step = 0
while time.monotonic() < deadline and proc.poll() is None:
    try:
        msg = sock.recv(4096).decode()
        sent.append(msg)
        print(msg)
    except socket.timeout:
        pass
    if step == 0 and "READY=1" in sent:
        proc.send_signal(signal.SIGHUP)
        step = 1
    elif step == 1 and sent.count("READY=1") >= 2:
        proc.send_signal(signal.SIGTERM)
        step = 2
if proc.poll() is None:
    proc.kill()
print("exit", proc.wait())
