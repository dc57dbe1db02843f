#!/usr/bin/env python3
"""mkdomains.py: the hosting provider's many domains, for tests/bench/bench.sh.

    mkdomains.py DIR COUNT
        Makes, unless DIR/done says it is already there, a local CA
        (DIR/ca.pem, DIR/ca.key) and COUNT mail domains d00001.example ...:
        for each, DIR/policies/DOMAIN.txt, DIR/certs/DOMAIN.pem (an ECDSA
        P-256 certificate for mta-sts.DOMAIN, then the CA) and
        DIR/certs/DOMAIN.key.  Prints the time it took.

    mkdomains.py --reissue DIR DOMAIN OUT
        Writes to OUT (atomically: a temporary file, then rename) a new
        chain for DOMAIN: same key, new serial number.  Prints the serial
        in hexadecimal, upper case, as "openssl x509 -serial" does.

Keys are generated in two processes: two thirds of the time goes there.
"""
import datetime
import multiprocessing
import os
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DAY = datetime.timedelta(days=1)


def domain(i):
    return "d%05d.example" % i


def load_ca(top):
    with open(os.path.join(top, "ca.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(top, "ca.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    return cert, key


def make_ca(top):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "mta-stsd bench CA")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                           critical=True)
            .sign(key, hashes.SHA256()))
    write(os.path.join(top, "ca.key"), pem_key(key))
    write(os.path.join(top, "ca.pem"),
          cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue(ca_cert, ca_key, dom, pub):
    """A leaf certificate for mta-sts.DOM, as a PEM chain with the CA."""
    host = "mta-sts." + dom
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_cert.subject)
            .public_key(pub)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + 90 * DAY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = cert.public_bytes(serialization.Encoding.PEM) + \
        ca_cert.public_bytes(serialization.Encoding.PEM)
    return chain, cert.serial_number


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def make_range(args):
    top, first, last = args
    ca_cert, ca_key = load_ca(top)
    for i in range(first, last):
        dom = domain(i)
        key = ec.generate_private_key(ec.SECP256R1())
        chain, _ = issue(ca_cert, ca_key, dom, key.public_key())
        write(os.path.join(top, "certs", dom + ".key"), pem_key(key))
        write(os.path.join(top, "certs", dom + ".pem"), chain)
        write(os.path.join(top, "policies", dom + ".txt"),
              ("version: STSv1\nmode: enforce\nmx: mail.%s\n"
               "max_age: 86400\n" % dom).encode())


def make_all(top, count):
    if os.path.exists(os.path.join(top, "done")):
        print("mkdomains: %d domains in %s (kept)" % (count, top))
        return
    start = time.monotonic()
    for sub in ("certs", "policies"):
        os.makedirs(os.path.join(top, sub), exist_ok=True)
    make_ca(top)
    half = 1 + count // 2
    with multiprocessing.Pool(2) as pool:
        pool.map(make_range, [(top, 1, half), (top, half, count + 1)])
    write(os.path.join(top, "done"), b"%d\n" % count)
    print("mkdomains: %d domains in %s, %.1f s" %
          (count, top, time.monotonic() - start))


def reissue(top, dom, out):
    ca_cert, ca_key = load_ca(top)
    with open(os.path.join(top, "certs", dom + ".key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    chain, serial = issue(ca_cert, ca_key, dom, key.public_key())
    write(out, chain)
    digits = "%X" % serial
    print(digits.zfill(len(digits) + len(digits) % 2))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--reissue":
        reissue(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3:
        make_all(sys.argv[1], int(sys.argv[2]))
    else:
        sys.exit("usage: mkdomains.py DIR COUNT | "
                 "--reissue DIR DOMAIN OUT")


if __name__ == "__main__":
    main()
