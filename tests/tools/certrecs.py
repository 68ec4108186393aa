#!/usr/bin/env python3
"""Certificate records for slapd, as LDIF: many at once, for tests that
need a CRL or an OCSP set of tens of thousands of entries.

    certrecs.py OUT N BASE ISSUER PREFIX STEP [NREV]

writes N records under BASE (ou=certificates,...) to OUT: serials
(1 << 156) + STEP * i in hex, issuer CN=ISSUER, uid PREFIX%05d; the first
NREV (default N) revoked (keyCompromise, an hour ago), the rest valid.
"""
import sys
import time


def main():
    out, n, base, issuer, prefix, step = sys.argv[1:7]
    n, step = int(n), int(step)
    nrev = int(sys.argv[7]) if len(sys.argv) > 7 else n
    now = time.time()
    g = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))
    with open(out, "w") as f:
        for i in range(n):
            s = "%040x" % ((1 << 156) + step * i)
            f.write("dn: provdCertSerial=%s,%s\nobjectClass: provdCertificate\n"
                    "provdCertSerial: %s\nprovdCertStatus: %s\nuid: %s%05d\n"
                    "employeeNumber: %s%05d\nmail: %s%05d@vinhphuc.gov.vn\n"
                    "cn: %s %d\ndepartmentNumber: so-noi-vu\n"
                    "provdCertProfile: staff-email\n"
                    "provdCertNotBefore: %s\nprovdCertNotAfter: %s\n"
                    "provdCertFingerprint: %064x\nprovdCertIssuer: CN=%s\n"
                    "provdCertReason: keyCompromise\nprovdCertRevokedAt: %s\n\n"
                    % (s, base, s, "revoked" if i < nrev else "valid", prefix, i,
                       prefix.upper(), i, prefix, i, prefix.capitalize(), i,
                       g(now - 86400), g(now + 86400 * 300), i, issuer,
                       g(now - 3600)))


if __name__ == "__main__":
    main()
