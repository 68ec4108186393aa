#!/usr/bin/env python3
"""crldump.py CRL.der — decode a CRL (RFC 5280) by hand, to compare with
what provd says it published, without trusting any one library's printer.

Prints, one per line:
  this_update EPOCH
  next_update EPOCH
  number N                       (the cRLNumber extension, decimal)
  entry SERIAL_HEX REASON_CODE   (serial lower case, no leading zeros;
                                  reason "-" when the entry has none)
Exit status 1 when the DER is malformed.
"""
import calendar
import sys

OID_REASON = bytes.fromhex("551d15")      # 2.5.29.21 cRLReason
OID_NUMBER = bytes.fromhex("551d14")      # 2.5.29.20 cRLNumber


def tlv(d, i):
    """(tag, content start, end) of the element at d[i]."""
    tag = d[i]
    n = d[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad length")
        n = int.from_bytes(d[j:j + k], "big")
        j += k
    if j + n > len(d):
        raise ValueError("element past the end")
    return tag, j, j + n


def children(d, start, end):
    out = []
    i = start
    while i < end:
        t, s, e = tlv(d, i)
        out.append((t, s, e))
        i = e
    if i != end:
        raise ValueError("stray bytes")
    return out


def epoch(tag, raw):
    s = raw.decode("ascii")
    if tag == 0x17:                         # UTCTime YYMMDDHHMMSSZ
        yy = int(s[0:2])
        s = ("19" if yy >= 50 else "20") + s
    elif tag != 0x18:                       # GeneralizedTime
        raise ValueError("not a time")
    if len(s) != 15 or s[-1] != "Z":
        raise ValueError("time form")
    return calendar.timegm((int(s[0:4]), int(s[4:6]), int(s[6:8]),
                            int(s[8:10]), int(s[10:12]), int(s[12:14])))


def extensions(d, s, e):
    """{oid bytes: value bytes} of an Extensions SEQUENCE."""
    out = {}
    for t, xs, xe in children(d, s, e):
        parts = children(d, xs, xe)
        oid = d[parts[0][1]:parts[0][2]]
        val = parts[-1]
        if val[0] != 0x04:
            raise ValueError("extension value is not an OCTET STRING")
        out[oid] = d[val[1]:val[2]]
    return out


def main():
    d = open(sys.argv[1], "rb").read()
    t, s, e = tlv(d, 0)
    cert_list = children(d, s, e)
    tbs = children(d, cert_list[0][1], cert_list[0][2])
    k = 0
    if tbs[0][0] == 0x02:                   # version
        k = 1
    k += 2                                  # signature algorithm, issuer
    print("this_update", epoch(tbs[k][0], d[tbs[k][1]:tbs[k][2]]))
    k += 1
    if k < len(tbs) and tbs[k][0] in (0x17, 0x18):
        print("next_update", epoch(tbs[k][0], d[tbs[k][1]:tbs[k][2]]))
        k += 1
    if k < len(tbs) and tbs[k][0] == 0x30:
        for _, es, ee in children(d, tbs[k][1], tbs[k][2]):
            ent = children(d, es, ee)
            serial = int.from_bytes(d[ent[0][1]:ent[0][2]], "big")
            reason = "-"
            if len(ent) > 2:
                ext = extensions(d, ent[2][1], ent[2][2])
                if OID_REASON in ext:
                    v = ext[OID_REASON]
                    _, rs, re_ = tlv(v, 0)
                    if v[0] != 0x0A:
                        raise ValueError("reason is not ENUMERATED")
                    reason = str(int.from_bytes(v[rs:re_], "big"))
            print("entry", format(serial, "x"), reason)
        k += 1
    if k < len(tbs) and tbs[k][0] == 0xA0:
        inner = children(d, tbs[k][1], tbs[k][2])[0]
        ext = extensions(d, inner[1], inner[2])
        if OID_NUMBER in ext:
            v = ext[OID_NUMBER]
            _, ns, ne = tlv(v, 0)
            print("number", int.from_bytes(v[ns:ne], "big"))


if __name__ == "__main__":
    try:
        main()
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        print("crldump: malformed CRL:", exc, file=sys.stderr)
        sys.exit(1)
