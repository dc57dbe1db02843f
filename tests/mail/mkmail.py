#!/usr/bin/env python3
"""tests/mail/mkmail.py OUT [--small]: the messages of the mail suite, built with
Python's email and mailbox packages.

OUT/ok/NAME.eml     a message in one MIME shape a sender uses, each with
                    its own reports (NAME.json, or NAME-1.json and
                    NAME-2.json: the JSON each carries, as stored)
OUT/bad/NAME.eml    hostile mail, each refused or ignored as a whole
                    (NAME.why: a word of the reason expected)
OUT/three.mbox      an mbox of three messages (mbox.N.json)
OUT/Maildir         a Maildir: two in new/, one in cur/ already seen,
                    one in cur/ not seen (maildir.N.json for the three
                    to import)
OUT/big.eml         a 50 MB message (a PDF-like attachment and a report;
                    not with --small)
OUT/bomb.eml        a gzip bomb inside base64: 256 MiB of zeros
OUT/dup.json        a report for the dedupe across HTTPS and mail, and
OUT/dup.eml         the same report by mail
"""
import base64
import email.policy
import gzip
import json
import mailbox
import os
import sys
import zlib
from email.message import EmailMessage, MIMEPart

OUT = sys.argv[1]
SMALL = "--small" in sys.argv  # no 50 MB message (the sanitizer pass)
for d in ("ok", "bad"):
    os.makedirs(os.path.join(OUT, d), exist_ok=True)


def report(rid, domain="a.test", day="2024-06-01", **extra):
    r = {
        "organization-name": "Mail Suite Sender",
        "date-range": {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": day + "T23:59:59Z"},
        "contact-info": "tlsrpt@sender.example",
        "report-id": rid,
        "policies": [{
            "policy": {"policy-type": "sts",
                       "policy-string": ["version: STSv1", "mode: testing",
                                         "mx: mx.%s" % domain,
                                         "max_age: 86400"],
                       "policy-domain": domain,
                       "mx-host": ["mx.%s" % domain]},
            "summary": {"total-successful-session-count": 100,
                        "total-failure-session-count": 1},
            "failure-details": [{"result-type": "certificate-expired",
                                 "sending-mta-ip": "192.0.2.1",
                                 "receiving-mx-hostname": "mx.%s" % domain,
                                 "failed-session-count": 1}],
        }],
    }
    r.update(extra)
    return (json.dumps(r, indent=1) + "\n").encode()


def gz(b):
    return gzip.compress(b, mtime=0)


def base(subject="Report Domain: a.test Submitter: sender.example"):
    m = EmailMessage()
    m["From"] = "TLS reports <noreply@sender.example>"
    m["To"] = "tlsrpt@a.test"
    m["Subject"] = subject
    m["Date"] = "Sun, 02 Jun 2024 06:00:00 +0000"
    m["Message-ID"] = "<%d@sender.example>" % id(m)
    return m


def as_report(m):
    m.replace_header("Content-Type", m["Content-Type"].replace(
        "multipart/mixed", "multipart/report"))
    m.set_param("report-type", "tlsrpt")
    return m


def attach(m, payload, ctype, filename=None, cte="base64", name_only=False):
    maintype, subtype = ctype.split("/")
    m.add_attachment(payload, maintype=maintype, subtype=subtype,
                     filename=None if name_only else filename, cte=cte)
    if name_only:
        part = m.get_payload()[-1]
        part.set_param("name", filename)
        del part["Content-Disposition"]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def ok(name, m, *reports, policy=email.policy.default):
    write(os.path.join(OUT, "ok", name + ".eml"), m.as_bytes(policy=policy))
    if len(reports) == 1:
        write(os.path.join(OUT, "ok", name + ".json"), reports[0])
    for i, r in enumerate(reports if len(reports) > 1 else ()):
        write(os.path.join(OUT, "ok", "%s-%d.json" % (name, i + 1)), r)


def simple(name, ctype, filename, packed, plain, cte="base64", **kw):
    m = base()
    m.set_content("This is an aggregate TLS report.\n")
    attach(m, packed, ctype, filename, cte, **kw)
    ok(name, as_report(m), plain)


# ---- every MIME shape of RFC 8460 and of senders that differ from it
for name, ctype, fname, zipped in (
        ("tlsrpt-gzip", "application/tlsrpt+gzip", "s!a.test!1!2.json.gz", 1),
        ("tlsrpt-json", "application/tlsrpt+json", "s!a.test!1!2.json", 0),
        ("app-gzip", "application/gzip", "s!a.test!1!2.json.gz", 1),
        ("app-x-gzip", "application/x-gzip", "report.json.gz", 1),
        ("octet-gz", "application/octet-stream", "report.json.gz", 1),
        ("octet-json", "application/octet-stream", "report.json", 0),
        ("app-json", "application/json", "report.json", 0),
        ("mislabelled", "application/tlsrpt+json", "report.json", 1)):
    r = report("shape-" + name)
    simple(name, ctype, fname, gz(r) if zipped else r, r)
r = report("shape-name-only")
simple("name-only", "application/octet-stream", "r.json.gz", gz(r), r,
       name_only=True)
r = report("shape-qp")
simple("quoted-printable", "application/tlsrpt+json", "r.json", r, r,
       cte="quoted-printable")

# nested: multipart/alternative holding a multipart/mixed with the report
r = report("shape-nested")
m = base()
m.make_alternative()
m.add_alternative("plain\n")
m.add_alternative("<p>html</p>\n", subtype="html")
inner = MIMEPart()
inner.set_content("inner\n")
inner.make_mixed()
inner.add_attachment(gz(r), maintype="application", subtype="tlsrpt+gzip",
                     filename="r.json.gz")
m.attach(inner)
ok("nested", m, r)

# forwarded as message/rfc822
r = report("shape-forwarded")
fw = base()
fw.set_content("original\n")
attach(fw, gz(r), "application/tlsrpt+gzip", "r.json.gz")
m = base("Fwd: TLS report")
m.set_content("see attached\n")
m.add_attachment(fw)
ok("forwarded", m, r)

# two reports in one message
r1, r2 = report("shape-two-1"), report("shape-two-2", domain="b.test")
m = base()
m.set_content("two reports\n")
attach(m, gz(r1), "application/tlsrpt+gzip", "one.json.gz")
attach(m, r2, "application/tlsrpt+json", "two.json")
ok("two", as_report(m), r1, r2)

# a message that is the report (not multipart)
r = report("shape-single")
m = base()
m.set_content(gz(r), maintype="application", subtype="tlsrpt+gzip",
              filename="r.json.gz")
ok("single-part", m, r)

# CRLF line ends, as it travels over SMTP
r = report("shape-crlf")
m = base()
m.set_content("crlf\n")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
ok("crlf", as_report(m), r, policy=email.policy.SMTP)

# the form an MTA pipes: a "From " line, Return-Path, Delivered-To, and an
# unquoted "From " line in the text
r = report("shape-piped")
m = base()
m.set_content("From the sender: a report.\n\nFrom here on, nothing.\n")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
data = (b"From noreply@sender.example  Sun Jun  2 06:00:00 2024\n"
        b"Return-Path: <noreply@sender.example>\n"
        b"Delivered-To: tlsrpt@a.test\n" + as_report(m).as_bytes())
write(os.path.join(OUT, "ok", "piped.eml"), data)
write(os.path.join(OUT, "ok", "piped.json"), r)


# ---- hostile mail: refused (a part) or ignored (the message)
def bad(name, data, why):
    if isinstance(data, EmailMessage):
        data = data.as_bytes()
    write(os.path.join(OUT, "bad", name + ".eml"), data)
    write(os.path.join(OUT, "bad", name + ".why"), why.encode())


m = base()
m.set_content("no report here\n")
bad("no-report", m, "no TLS report")

full = gz(report("truncated"))
m = base()
m.set_content("x\n")
attach(m, full, "application/tlsrpt+gzip", "r.json.gz")
raw = m.as_bytes()
b64 = base64.encodebytes(full)
cut = raw.replace(b64.rstrip(b"\n"), b64[:len(b64) // 2].rstrip(b"\n"))
bad("truncated", cut, "truncated gzip")

m = base()
m.set_content("x\n")
attach(m, gz(report("x" * 10 + ".", domain="d" * 10000)),
       "application/tlsrpt+gzip", "r.json.gz")
bad("long-domain", m, "not a host name")

m = base()
m.set_content("x\n")
attach(m, gz(report("badutf8").replace(b"Mail Suite", b"Mail \xff\xfe")),
       "application/tlsrpt+gzip", "r.json.gz")
bad("bad-utf8", m, "invalid JSON")

m = base()
m.set_content("x\n")
attach(m, gz(b"\x00" * (8 << 20)), "application/tlsrpt+gzip", "r.json.gz")
bad("small-bomb", m, "beyond the limit")

m = base()
m.set_content("x\n")
attach(m, b"not gzip, not JSON", "application/gzip", "r.json.gz")
bad("decoy", m, "invalid JSON")

m = base()
m.set_content("x\n")
attach(m, json.dumps({"organization-name": "no range"}).encode(),
       "application/json", "r.json")
bad("no-range", m, "date-range")


def deep(levels, leaf=b""):
    head = [b"From: x@sender.example\nSubject: deep\nMIME-Version: 1.0\n"]
    for i in range(levels):
        head.append(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n"
                    % (i, i))
    head.append(b"Content-Type: application/tlsrpt+gzip\n"
                b"Content-Transfer-Encoding: base64\n\n" +
                base64.encodebytes(leaf) + b"\n")
    head += [b"--b%d--\n" % i for i in reversed(range(levels))]
    return b"".join(head)


bad("deep-40", deep(40, gz(report("deep-40"))), "deeper than 32")
bad("deep-5000", deep(5000, gz(report("deep-5000"))), "lines starting")
parts = [b"From: x@sender.example\nMIME-Version: 1.0\n"
         b"Content-Type: multipart/mixed; boundary=x\n\n"]
parts += [b"--x\n\n"] * 300000
parts.append(b"--x--\n")
bad("many-parts", b"".join(parts), "lines starting")
write(os.path.join(OUT, "bad", "empty.eml"), b"")
write(os.path.join(OUT, "bad", "empty.why"), b"not a mail message")

# Headers, folded here (the email package folds a header that long in
# minutes): 3 MB is ignored before it is parsed; 200 KB is parsed, and so
# is a preamble of 3.5 MB (GMime keeps both in memory).
def long_header(words_lines):
    return b"X-Long: " + b"\n ".join([b"word " * 15] * words_lines) + b"\n"


m = base()
m.set_content("x\n")
attach(m, gz(report("huge-header")), "application/tlsrpt+gzip", "r.json.gz")
bad("huge-header", long_header(40000) + m.as_bytes(), "header block")
m = base()
m.set_content("x\n")
r = report("long-header")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
write(os.path.join(OUT, "long-header.eml"), long_header(2600) + m.as_bytes())
write(os.path.join(OUT, "long-header.json"), r)
m = base()
m.set_content("x\n")
r = report("preamble")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
m.preamble = "\n".join(["This is the preamble, which nobody reads."] * 85000)
write(os.path.join(OUT, "preamble.eml"), as_report(m).as_bytes())
write(os.path.join(OUT, "preamble.json"), r)

# ---- a gzip bomb inside base64: 256 MiB of zeros, about 350 KB of mail
z = zlib.compressobj(9, zlib.DEFLATED, 31)
chunk = b"\x00" * (1 << 20)
bomb = b"".join([z.compress(chunk) for _ in range(256)] + [z.flush()])
m = base()
m.set_content("x\n")
attach(m, bomb, "application/tlsrpt+gzip", "bomb.json.gz")
write(os.path.join(OUT, "bomb.eml"), m.as_bytes())

# ---- a message of 50 MB: a report after 37 MB of PDF-like bytes, whose
# base64 is put in afterwards (the email package takes seconds on it)
m = base()
m.set_content("big\n")
attach(m, b"PLACEHOLDER", "application/pdf", "big.pdf")
r = report("big-message")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
raw = as_report(m).as_bytes()
if not SMALL:
    write(os.path.join(OUT, "big.eml"), raw.replace(
        base64.encodebytes(b"PLACEHOLDER").rstrip(b"\n"),
        base64.encodebytes(os.urandom(37 << 20)).rstrip(b"\n")))

# ---- an mbox of three, written by mailbox (it quotes "From " lines)
mb = mailbox.mbox(os.path.join(OUT, "three.mbox"))
mb.lock()
for i in range(1, 4):
    r = report("mbox-%d" % i)
    m = base()
    m.set_content("From the mbox, message %d\n" % i)
    attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
    mb.add(mailbox.mboxMessage(as_report(m)))
    write(os.path.join(OUT, "mbox.%d.json" % i), r)
mb.flush()
mb.unlock()

# ---- a Maildir: new/ twice, cur/ seen (skipped) and not seen
md = mailbox.Maildir(os.path.join(OUT, "Maildir"), create=True)
for i, (sub, flags) in enumerate((("new", ""), ("new", ""), ("cur", "S"),
                                  ("cur", "F"))):
    r = report("maildir-%d" % (i + 1))
    m = base()
    m.set_content("maildir %d\n" % (i + 1))
    attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
    mm = mailbox.MaildirMessage(as_report(m))
    mm.set_subdir(sub)
    if flags:
        mm.set_flags(flags)
    md.add(mm)
    if flags != "S":
        write(os.path.join(OUT, "maildir.%d.json" % (i + 1)), r)

# ---- the same report over HTTPS and by mail
r = report("over-both-ways")
write(os.path.join(OUT, "dup.json"), r)
m = base()
m.set_content("x\n")
attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
write(os.path.join(OUT, "dup.eml"), as_report(m).as_bytes())
r = report("mail-first")
write(os.path.join(OUT, "dup2.json"), r)
m = base()
m.set_content("x\n")
attach(m, r, "application/tlsrpt+json", "r.json")
write(os.path.join(OUT, "dup2.eml"), as_report(m).as_bytes())

# ---- for the delivery agents and the disk: one message each
for name in ("agent-1", "agent-2", "disk-1", "later-1"):
    r = report(name)
    m = base()
    m.set_content("x\n")
    attach(m, gz(r), "application/tlsrpt+gzip", "r.json.gz")
    write(os.path.join(OUT, name + ".eml"), as_report(m).as_bytes())
    write(os.path.join(OUT, name + ".json"), r)
