#!/usr/bin/env python3
"""tests/golden/corpus/mkcorpus.py: writes the TLS report corpus of the
golden suite, each report as JSON (reports/NAME.json) and as the mail
message its sender would send (mail/NAME.eml), and the policies and id
records it is judged against (policies/).

The shapes are written from what each sender documents or is publicly
shown to send, not copied from real reports:

- Google: multipart/report; report-type=tlsrpt with a text part and an
  application/tlsrpt+gzip attachment named
  google.com!DOMAIN!START!END!001.json.gz; compact JSON, "mx-host" as an
  array, report-id "START_DOMAIN".
- Microsoft: the same MIME shape with TLS-Report-Domain and
  TLS-Report-Submitter headers; report-id "NUMBER+DOMAIN"; some policies
  without "policy-string" or "mx-host", failure details without
  "sending-mta-ip".
- A large hoster running the Postfix TLSRPT reporter: an
  application/gzip attachment named *.json.gz; "contact-info" null, a
  date range from midnight to the next midnight, "failure-details" an
  empty array, "no-policy-found" with an empty "policy-string".
- Edge cases of the tolerant reader (example.net): date-times without a
  time zone, with a fraction or a lower-case z, "mx-host" as a string,
  counts of 2^53, members of the wrong type, a missing summary; sent as
  application/json in quoted-printable, application/octet-stream named
  *.json, and application/tlsrpt+json forwarded as message/rfc822.

Run it from anywhere; it rewrites the files beside it byte for byte the
same (fixed boundaries, dates, ids and gzip times).  The golden suite
does not run it: it reads what it wrote.
"""
import email.policy
import gzip
import hashlib
import json
import os
from email.message import EmailMessage, MIMEPart

HERE = os.path.dirname(os.path.abspath(__file__))
DAY = 86400
POLICY = email.policy.SMTP  # CRLF, as mail travels


def epoch(day):
    import calendar
    import time
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


def body(mode, mx, max_age):
    lines = ["version: STSv1", "mode: " + mode]
    lines += ["mx: " + m for m in mx]
    lines.append("max_age: %d" % max_age)
    return lines


def canonical_sha(lines):
    return hashlib.sha256(("\r\n".join(lines) + "\r\n").encode()).hexdigest()


# example.com's policies, in the order their ids were issued.
COM_A = body("testing", ["mail.example.com"], 86400)
COM_B = body("enforce", ["mail.example.com"], 604800)
COM_C = body("enforce", ["mail.example.com", "mx2.example.com"], 1209600)
ORG = body("testing", ["mx.example.org"], 86400)


def sts(domain, lines, mx):
    return {"policy-type": "sts", "policy-string": lines,
            "policy-domain": domain, "mx-host": mx}


def google(domain, day, pol, ok, failures=()):
    start = day + "T00:00:00Z"
    return {
        "organization-name": "Google Inc.",
        "date-range": {"start-datetime": start,
                       "end-datetime": day + "T23:59:59Z"},
        "contact-info": "smtp-tls-reporting@google.com",
        "report-id": start + "_" + domain,
        "policies": [{
            "policy": pol,
            "summary": {"total-successful-session-count": ok,
                        "total-failure-session-count":
                            sum(f["failed-session-count"] for f in failures)},
            **({"failure-details": list(failures)} if failures else {}),
        }],
    }


def microsoft(domain, day, n, pol, ok, failures=()):
    return {
        "organization-name": "Microsoft Corporation",
        "date-range": {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": day + "T23:59:59Z"},
        "contact-info": "tlsrpt-noreply@microsoft.com",
        "report-id": "%d+%s" % (n, domain),
        "policies": [{
            "policy": pol,
            "summary": {"total-successful-session-count": ok,
                        "total-failure-session-count":
                            sum(f["failed-session-count"] for f in failures)},
            "failure-details": list(failures),
        }],
    }


def hoster(domain, day, policies):
    start = epoch(day)
    nxt = time_day(start + DAY)
    return {
        "organization-name": "mx.large-hoster.example",
        "date-range": {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": nxt + "T00:00:00Z"},
        "contact-info": None,
        "report-id": "%d_%d" % (start, 11732957880687192466 % (start + 7)),
        "policies": policies,
    }


def time_day(t):
    import time
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def hoster_policy(domain, ptype, lines, mx, ok, failed=0):
    return {"policy": {"policy-type": ptype, "policy-string": lines,
                       "policy-domain": domain, "mx-host": mx},
            "summary": {"total-successful-session-count": ok,
                        "total-failure-session-count": failed},
            "failure-details": []}


def fail(rt, mx, count, ip=None, rip=None):
    f = {"result-type": rt}
    if ip:
        f["sending-mta-ip"] = ip
    f["receiving-mx-hostname"] = mx
    if rip:
        f["receiving-ip"] = rip
    f["failed-session-count"] = count
    return f


def report_mail(frm, to, subject, extra_headers, text, payload, ctype,
                filename, boundary, msgid, date, cte="base64"):
    m = EmailMessage(policy=POLICY)
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date
    m["Message-ID"] = msgid
    for k, v in extra_headers:
        m[k] = v
    m["MIME-Version"] = "1.0"
    m.set_content(text)
    maintype, subtype = ctype.split("/")
    m.add_attachment(payload, maintype=maintype, subtype=subtype,
                     filename=filename, cte=cte)
    m.replace_header("Content-Type", 'multipart/report; report-type="tlsrpt"')
    m.set_boundary(boundary)
    return m


def jdump(r, compact=True):
    if compact:
        return json.dumps(r, separators=(",", ":")).encode()
    return (json.dumps(r, indent=2) + "\n").encode()


def gz(data):
    return gzip.compress(data, mtime=0)


def datehdr(day, hour):
    import time
    t = epoch(day) + DAY + hour * 3600
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


corpus = []  # (name, json bytes, message)


def add_google(name, domain, day, r):
    data = jdump(r)
    s, e = epoch(day), epoch(day) + DAY - 1
    msg = report_mail(
        "noreply-smtp-tls-reporting@google.com", "tlsrpt@" + domain,
        "Report Domain: %s Submitter: google.com Report-ID: <%s+%s@google.com>"
        % (domain, day.replace("-", "."), domain), [],
        "This is an aggregate TLS report from google.com\n", gz(data),
        "application/tlsrpt+gzip",
        "google.com!%s!%d!%d!001.json.gz" % (domain, s, e),
        "000000000000g%s%s" % (day.replace("-", ""), domain.split(".")[1]),
        "<%s-%s@google.com>" % (day, domain), datehdr(day, 9))
    corpus.append((name, data, msg))


def add_microsoft(name, domain, day, r):
    data = jdump(r)
    s, e = epoch(day), epoch(day) + DAY - 1
    rid = r["report-id"]
    msg = report_mail(
        "tlsrpt-noreply@microsoft.com", "tlsrpt@" + domain,
        "Report Domain: %s Submitter: microsoft.com Report-ID: %s"
        % (domain, rid),
        [("TLS-Report-Domain", domain),
         ("TLS-Report-Submitter", "microsoft.com")],
        "This is an aggregate TLS report from microsoft.com\n", gz(data),
        "application/tlsrpt+gzip",
        "microsoft.com!%s!%d!%d!%s.json.gz" % (domain, s, e,
                                              rid.split("+")[0]),
        "_ms_%s_%s_" % (day.replace("-", ""), domain.split(".")[1]),
        "<%s@%s>" % (rid, domain), datehdr(day, 20))
    corpus.append((name, data, msg))


def add_hoster(name, domain, day, r):
    data = jdump(r)
    s = epoch(day)
    msg = report_mail(
        "TLS Reporting <noreply-tlsrpt@mx.large-hoster.example>",
        "tlsrpt@" + domain,
        "Report Domain: %s Submitter: mx.large-hoster.example Report-ID: "
        "<%s>" % (domain, r["report-id"]),
        [("TLS-Report-Domain", domain),
         ("TLS-Report-Submitter", "mx.large-hoster.example")],
        "This is an aggregate TLS report from mx.large-hoster.example.\n",
        gz(data), "application/gzip",
        "mx.large-hoster.example!%s!%d!%d.json.gz" % (domain, s, s + DAY),
        "----=_hoster_%s_%s" % (day.replace("-", ""), domain.split(".")[1]),
        "<%s@mx.large-hoster.example>" % r["report-id"], datehdr(day, 1))
    corpus.append((name, data, msg))


# ---- example.com: enforce, its MX certificate expired, one sender late
com_b = sts("example.com", COM_B, ["mail.example.com"])
com_c = sts("example.com", COM_C, ["mail.example.com", "mx2.example.com"])
add_google("google-com-0501", "example.com", "2024-05-01",
           google("example.com", "2024-05-01", com_b, 1310))
add_google("google-com-0502", "example.com", "2024-05-02",
           google("example.com", "2024-05-02", com_c, 1190, [
               fail("certificate-expired", "mx2.example.com", 20,
                    "209.85.220.41", "192.0.2.26")]))
add_google("google-com-0503", "example.com", "2024-05-03",
           google("example.com", "2024-05-03", com_c, 1205, [
               fail("certificate-expired", "mx2.example.com", 35,
                    "209.85.220.41", "192.0.2.26"),
               fail("certificate-expired", "mx2.example.com", 12,
                    "209.85.220.42", "192.0.2.26")]))
add_microsoft("microsoft-com-0502", "example.com", "2024-05-02",
              microsoft("example.com", "2024-05-02", 133590815000000001,
                        {"policy-type": "sts", "policy-domain": "example.com"},
                        338, [{"result-type": "sts-policy-fetch-error",
                               "failed-session-count": 4}]))
add_microsoft("microsoft-com-0503", "example.com", "2024-05-03",
              microsoft("example.com", "2024-05-03", 133591679000000002,
                        com_b, 352, [
                            fail("validation-failure", "mx.old.example.com",
                                 2, "40.107.1.2")]))
add_hoster("hoster-com-0503", "example.com", "2024-05-03",
           hoster("example.com", "2024-05-03", [
               hoster_policy("example.com", "sts", COM_C,
                             ["mail.example.com", "mx2.example.com"], 61)]))

# ---- example.org: testing, clean for two weeks: ready to enforce
org_pol = sts("example.org", ORG, ["mx.example.org"])
for i in range(14):
    day = time_day(epoch("2024-04-20") + i * DAY)
    add_google("google-org-%s" % day[5:].replace("-", ""), "example.org", day,
               google("example.org", day, org_pol, 40 + i))
for day in ("2024-04-25", "2024-05-02"):
    add_hoster("hoster-org-%s" % day[5:].replace("-", ""), "example.org", day,
               hoster("example.org", day, [
                   hoster_policy("example.org", "sts", ORG,
                                 ["mx.example.org"], 7)]))

# ---- example.net: not served here; every tolerated oddity
edge_zoneless = {
    "organization-name": "Edge Mail",
    "date-range": {"start-datetime": "2024-05-02T00:00:00",
                   "end-datetime": "2024-05-02T23:59:59"},
    "contact-info": "tls@edge.example",
    "report-id": "edge-zoneless",
    "policies": [{
        "policy": {"policy-type": "sts",
                   "policy-string": ["version: STSv1", "mode: testing",
                                     "mx: mx.example.net", "max_age: 86400"],
                   "policy-domain": "Example.NET.",
                   "mx-host": "mx.example.net"},
        "summary": {"total-successful-session-count": 9007199254740992,
                    "total-failure-session-count": 3},
        "failure-details": [{"result-type": "starttls-not-supported",
                             "receiving-mx-hostname": "mx.example.net",
                             "failed-session-count": 3,
                             "unknown-member": {"ignored": True}}],
    }],
}
edge_fraction = {
    "organization-name": "Edge Mail",
    "date-range": {"start-datetime": "2024-05-03t00:00:00.000z",
                   "end-datetime": "2024-05-03T23:59:59.999+00:00"},
    "report-id": "edge-fraction",
    "policies": [
        {"policy": {"policy-type": "no-policy-found",
                    "policy-domain": "example.net"},
         "summary": {"total-successful-session-count": 5,
                     "total-failure-session-count": 0}},
        {"policy": {"policy-type": "sts", "policy-domain": "example.net",
                    "policy-string": "version: STSv1\r\nmode: testing\r\n"
                                     "mx: mx.example.net\r\n"
                                     "max_age: 86400\r\n"},
         "summary": {"total-successful-session-count": 12.0,
                     "total-failure-session-count": 1},
         "failure-details": [{"result-type": "certificate-not-trusted",
                              "sending-mta-ip": 198,
                              "receiving-ip": "192.0.2.80",
                              "failed-session-count": 1}]},
        {"policy": {"policy-type": "sts", "policy-domain": "x" * 300},
         "summary": {"total-successful-session-count": 1,
                     "total-failure-session-count": 0}},
    ],
}
edge_nosummary = {
    "organization-name": 42,
    "date-range": {"start-datetime": "2024-05-03T00:00:00Z",
                   "end-datetime": "2024-05-03T23:59:59Z"},
    "contact-info": None,
    "report-id": "edge-nosummary",
    "policies": [{"policy": {"policy-type": "sts",
                             "policy-domain": "example.net"},
                  "failure-details": None}],
}


def edge_mail(name, r, kind, boundary):
    data = jdump(r, compact=False)
    m = EmailMessage(policy=POLICY)
    m["From"] = "Edge Mail <tls@edge.example>"
    m["To"] = "tlsrpt@example.net"
    m["Subject"] = "Report Domain: example.net Submitter: edge.example"
    m["Date"] = "Fri, 03 May 2024 06:00:00 +0000"
    m["Message-ID"] = "<%s@edge.example>" % name
    m["MIME-Version"] = "1.0"
    if kind == "qp":
        m.set_content("TLS report attached.\n")
        m.add_attachment(data, maintype="application", subtype="json",
                         cte="quoted-printable", filename=name + ".json")
    elif kind == "octet":
        m.set_content("TLS report attached.\n")
        m.add_attachment(data, maintype="application",
                         subtype="octet-stream", filename=name + ".json")
    else:  # forwarded as message/rfc822
        inner = EmailMessage(policy=POLICY)
        inner["From"] = "Edge Mail <tls@edge.example>"
        inner["Subject"] = "Report Domain: example.net"
        inner["MIME-Version"] = "1.0"
        inner.set_content("TLS report attached.\n")
        inner.add_attachment(data, maintype="application",
                             subtype="tlsrpt+json", filename=name + ".json")
        inner.set_boundary(boundary + "-inner")
        m.set_content("Forwarded report.\n")
        m.add_attachment(inner)
    m.set_boundary(boundary)
    corpus.append((name, data, m))


edge_mail("edge-zoneless", edge_zoneless, "qp", "edge-boundary-1")
edge_mail("edge-fraction", edge_fraction, "octet", "edge-boundary-2")
edge_mail("edge-nosummary", edge_nosummary, "forward", "edge-boundary-3")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


for name, data, msg in corpus:
    write(os.path.join(HERE, "reports", name + ".json"), data)
    write(os.path.join(HERE, "mail", name + ".eml"), msg.as_bytes())

# ---- the policies here, and their id records
write(os.path.join(HERE, "policies", "example.com.txt"),
      ("\n".join(COM_C) + "\n").encode())
write(os.path.join(HERE, "policies", "example.org.txt"),
      ("\n".join(ORG) + "\n").encode())
write(os.path.join(HERE, "policies", ".ids", "example.com.id"), (
    "# Policy ids issued by mta-stsctl for example.com.  Do not edit: an id\n"
    "# must never repeat for another policy.\n"
    "id: 20240501090000Z\nsha256: %s\nmax_age: 1209600\nmode: enforce\n"
    "issued: 2024-05-01T09:00:00Z\n"
    "previous: 20240401000000Z\nprevious: 20240420000000Z\n"
    "previous-body: 20240401000000Z %s testing\n"
    "previous-body: 20240420000000Z %s enforce\n"
    % (canonical_sha(COM_C), canonical_sha(COM_A), canonical_sha(COM_B))
).encode())
write(os.path.join(HERE, "policies", ".ids", "example.org.id"), (
    "# Policy ids issued by mta-stsctl for example.org.  Do not edit: an id\n"
    "# must never repeat for another policy.\n"
    "id: 20240410000000Z\nsha256: %s\nmax_age: 86400\nmode: testing\n"
    "issued: 2024-04-10T00:00:00Z\n" % canonical_sha(ORG)).encode())
