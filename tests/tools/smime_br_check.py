#!/usr/bin/env python3
"""smime_br_check.py CERT.der... — check S/MIME subscriber certificates
against the CA/Browser Forum S/MIME Baseline Requirements' certificate
profile (version 1.0.x): 7.1.2.3 (the extensions: presence, criticality,
allowed values), 7.1.4.2 (the subject attributes of the Mailbox- and
Sponsor-validated types) and 7.1.6 (the reserved policy identifiers).
The DER is decoded here, by hand, so no library's printer is trusted.

Prints one line per certificate: "FILE ok GENERATION VALIDATION" or
"FILE FAIL rule: why" for every broken rule; exit status 1 when any
certificate broke one.  Legacy and the Organization/Individual types are
refused (provd issues neither).
"""
import sys

# tlv: (tag, content start, end) of the element at d[i]; children: the
# elements of d[start:end].
from crldump import children, tlv

# ---- DER ----------------------------------------------------------------


def oid(b):
    arcs = []
    v = 0
    for x in b:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


# ---- names and values ------------------------------------------------------

EKU_EMAIL = "1.3.6.1.5.5.7.3.4"
EKU_FORBIDDEN = {                       # 7.1.2.3 f, every generation
    "1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.8": "timeStamping", "2.5.29.37.0": "anyExtendedKeyUsage",
}
# 7.1.6.1: validation type and generation of each reserved identifier.
TYPES = {"1": "mailbox", "2": "organization", "3": "sponsor", "4": "individual"}
GENS = {"1": "legacy", "2": "multipurpose", "3": "strict"}

KU = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
      "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

ATTR = {
    "2.5.4.3": "commonName", "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName", "2.5.4.97": "organizationIdentifier",
    "2.5.4.42": "givenName", "2.5.4.4": "surname", "2.5.4.65": "pseudonym",
    "2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress",
    "2.5.4.12": "title", "2.5.4.9": "streetAddress", "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName", "2.5.4.17": "postalCode", "2.5.4.6": "countryName",
}
# 7.1.4.2.3 (mailbox) and 7.1.4.2.5 (sponsor), Multipurpose and Strict:
# "SHALL" must be present, "MAY" may be, everything else SHALL NOT.
SUBJECT = {
    "mailbox": {"commonName": "MAY", "serialNumber": "MAY", "emailAddress": "MAY"},
    "sponsor": {"commonName": "MAY", "organizationName": "SHALL",
                "organizationalUnitName": "MAY", "organizationIdentifier": "SHALL",
                "givenName": "MAY", "surname": "MAY", "pseudonym": "MAY",
                "serialNumber": "MAY", "emailAddress": "MAY", "title": "MAY",
                "streetAddress": "MAY", "localityName": "MAY",
                "stateOrProvinceName": "MAY", "postalCode": "MAY", "countryName": "MAY"},
}
STRICT_SPONSOR_NOT = {"streetAddress", "postalCode"}


def uris(d, s, e):
    """Every uniformResourceIdentifier ([6]) below d[s:e]."""
    out = []
    for t, cs, ce in children(d, s, e):
        if t == 0x86:
            out.append(d[cs:ce].decode("ascii", "replace"))
        elif t & 0x20:
            out += uris(d, cs, ce)
    return out


def check(path):
    d = open(path, "rb").read()
    errs = []

    def fail(rule, why):
        errs.append("%s: %s" % (rule, why))

    _, cs, ce = tlv(d, 0)
    tbs = children(d, *tlv(d, cs)[1:])
    if tbs[0][0] == 0xA0:
        tbs = tbs[1:]
    # serial, sigalg, issuer, validity, subject, spki, [extensions]
    subj_t, subj_s, subj_e = tbs[4]
    spki = children(d, tbs[5][1], tbs[5][2])
    alg = oid(d[children(d, spki[0][1], spki[0][2])[0][1]:
                children(d, spki[0][1], spki[0][2])[0][2]])
    key = {"1.2.840.113549.1.1.1": "rsa", "1.2.840.10045.2.1": "ec"}.get(alg, alg)
    exts = {}
    for t, s, e in tbs[6:]:
        if t != 0xA3:
            continue
        for _, es, ee in children(d, *tlv(d, s)[1:]):
            parts = children(d, es, ee)
            eid = oid(d[parts[0][1]:parts[0][2]])
            crit = len(parts) == 3 and d[parts[1][1]] != 0
            val = parts[-1]
            if eid in exts:
                fail("RFC 5280 4.2", "extension %s twice" % eid)
            exts[eid] = (crit, val[1], val[2])

    def ext(eid):
        return exts.get(eid)

    # (a) certificatePolicies, 7.1.6.4: exactly one reserved identifier
    gen = vtype = None
    cp = ext("2.5.29.32")
    if cp is None:
        fail("7.1.2.3 a", "certificatePolicies SHALL be present")
    else:
        if cp[0]:
            fail("7.1.2.3 a", "certificatePolicies SHOULD NOT be critical")
        reserved = []
        for _, ps, pe in children(d, *tlv(d, cp[1])[1:]):
            pinfo = children(d, ps, pe)
            p = oid(d[pinfo[0][1]:pinfo[0][2]])
            if p.startswith("2.23.140.1.5."):
                reserved.append(p)
            if p == "2.5.29.32.0":
                fail("7.1.6.4", "anyPolicy in a subscriber certificate")
        if len(reserved) != 1:
            fail("7.1.2.3 a", "exactly one reserved policy identifier, found %s" % reserved)
        else:
            arcs = reserved[0].split(".")
            if len(arcs) != 7 or arcs[5] not in TYPES or arcs[6] not in GENS:
                fail("7.1.6.1", "%s is not a reserved identifier" % reserved[0])
            else:
                vtype, gen = TYPES[arcs[5]], GENS[arcs[6]]
                if gen == "legacy":
                    fail("7.1.6.1", "Legacy profiles may no longer be issued")
                if vtype not in SUBJECT:
                    fail("7.1.6.1", "%s-validated is not checked here" % vtype)
    # (b) cRLDistributionPoints: HTTP only (Strict, Multipurpose)
    crl = ext("2.5.29.31")
    if crl is None:
        fail("7.1.2.3 b", "cRLDistributionPoints SHALL be present")
    else:
        if crl[0]:
            fail("7.1.2.3 b", "cRLDistributionPoints SHOULD NOT be critical")
        u = uris(d, *tlv(d, crl[1])[1:])
        if not u:
            fail("7.1.2.3 b", "no URI of the CRL")
        if any(not x.startswith("http://") for x in u):
            fail("7.1.2.3 b", "every CRL URI SHALL be HTTP: %s" % u)
    # (c) authorityInformationAccess: SHOULD; not critical; HTTP only
    aia = ext("1.3.6.1.5.5.7.1.1")
    if aia is not None:
        if aia[0]:
            fail("7.1.2.3 c", "authorityInformationAccess SHALL NOT be critical")
        for _, ads, ade in children(d, *tlv(d, aia[1])[1:]):
            ad = children(d, ads, ade)
            m = oid(d[ad[0][1]:ad[0][2]])
            if m not in ("1.3.6.1.5.5.7.48.1", "1.3.6.1.5.5.7.48.2"):
                fail("7.1.2.3 c", "access method %s" % m)
            if ad[1][0] != 0x86 or not d[ad[1][1]:ad[1][2]].startswith(b"http://"):
                fail("7.1.2.3 c", "every accessLocation SHALL be an HTTP URI")
    # (d) basicConstraints: cA not true, no pathLenConstraint
    bc = ext("2.5.29.19")
    if bc is not None:
        for t, s, e in children(d, *tlv(d, bc[1])[1:]):
            if t == 0x01 and d[s] != 0:
                fail("7.1.2.3 d", "cA SHALL NOT be true")
            if t == 0x02:
                fail("7.1.2.3 d", "pathLenConstraint SHALL NOT be present")
    # (e) keyUsage: present, SHOULD be critical, the bits of the table
    ku = ext("2.5.29.15")
    if ku is None:
        fail("7.1.2.3 e", "keyUsage SHALL be present")
    else:
        if not ku[0]:
            fail("7.1.2.3 e", "keyUsage SHOULD be critical")
        _, bs, be = tlv(d, ku[1])
        bits = int.from_bytes(d[bs + 1:be], "big") if be > bs + 1 else 0
        nbytes = be - bs - 1
        have = {KU[i] for i in range(9) if i < nbytes * 8 and bits >> (nbytes * 8 - 1 - i) & 1}
        sign = "digitalSignature" in have
        if key == "rsa":
            mgmt = "keyEncipherment" in have
            allowed = {"digitalSignature", "nonRepudiation", "keyEncipherment"}
            if gen != "strict":
                allowed.add("dataEncipherment")
            if "dataEncipherment" in have and not mgmt:
                fail("7.1.2.3 e", "dataEncipherment only with keyEncipherment")
        elif key == "ec":
            mgmt = "keyAgreement" in have
            allowed = {"digitalSignature", "nonRepudiation", "keyAgreement",
                       "encipherOnly", "decipherOnly"}
            if have & {"encipherOnly", "decipherOnly"} and not mgmt:
                fail("7.1.2.3 e", "encipherOnly/decipherOnly only with keyAgreement")
        else:
            mgmt, allowed = False, {"digitalSignature", "nonRepudiation"}
        if not sign and not mgmt:
            fail("7.1.2.3 e", "neither signing nor key management: %s" % sorted(have))
        if "nonRepudiation" in have and not sign:
            fail("7.1.2.3 e", "nonRepudiation without digitalSignature")
        if have - allowed:
            fail("7.1.2.3 e", "bits SHALL NOT be set: %s" % sorted(have - allowed))
    # (f) extKeyUsage: emailProtection; Strict: nothing else
    eku = ext("2.5.29.37")
    if eku is None:
        fail("7.1.2.3 f", "extKeyUsage SHALL be present")
    else:
        purposes = [oid(d[s:e]) for _, s, e in children(d, *tlv(d, eku[1])[1:])]
        if EKU_EMAIL not in purposes:
            fail("7.1.2.3 f", "id-kp-emailProtection SHALL be present")
        if gen == "strict" and set(purposes) != {EKU_EMAIL}:
            fail("7.1.2.3 f", "Strict: other values SHALL NOT be present: %s" % purposes)
        for p in purposes:
            if p in EKU_FORBIDDEN:
                fail("7.1.2.3 f", "%s SHALL NOT be present" % EKU_FORBIDDEN[p])
    # (g) authorityKeyIdentifier: keyIdentifier only, not critical
    aki = ext("2.5.29.35")
    if aki is None:
        fail("7.1.2.3 g", "authorityKeyIdentifier SHALL be present")
    else:
        if aki[0]:
            fail("7.1.2.3 g", "authorityKeyIdentifier SHALL NOT be critical")
        tags = [t for t, _, _ in children(d, *tlv(d, aki[1])[1:])]
        if tags != [0x80]:
            fail("7.1.2.3 g", "keyIdentifier alone SHALL be present (tags %s)" % tags)
    # (h) subjectAltName: present; rfc822Name; not critical (subject is not empty)
    san = ext("2.5.29.17")
    mails = []
    if san is None:
        fail("7.1.2.3 h", "subjectAltName SHALL be present")
    else:
        if san[0] and subj_e > subj_s:
            fail("7.1.2.3 h", "subjectAltName SHOULD NOT be critical")
        for t, s, e in children(d, *tlv(d, san[1])[1:]):
            if t == 0x81:
                mails.append(d[s:e].decode("ascii", "replace"))
            elif t not in (0xA0, 0xA4):
                fail("7.1.4.2.1", "GeneralName of tag %#x" % t)
        if not mails:
            fail("7.1.4.2.1", "no rfc822Name")
    # (j) subjectDirectoryAttributes: prohibited (Strict, Multipurpose)
    if ext("2.5.29.9") is not None:
        fail("7.1.2.3 j", "subjectDirectoryAttributes is prohibited")
    # (m) Adobe extensions: prohibited in Strict
    if gen == "strict" and any(e.startswith("1.2.840.113583.1.1.9.") for e in exts):
        fail("7.1.2.3 m", "Adobe extensions are prohibited in Strict")
    # (n) subjectKeyIdentifier: SHOULD; not critical
    ski = ext("2.5.29.14")
    if ski is not None and ski[0]:
        fail("7.1.2.3 n", "subjectKeyIdentifier SHALL NOT be critical")
    # (i, k, l) and the rest: not critical, and only those the BR names
    known = {"2.5.29.32", "2.5.29.31", "1.3.6.1.5.5.7.1.1", "2.5.29.19", "2.5.29.15",
             "2.5.29.37", "2.5.29.35", "2.5.29.17", "2.5.29.14",
             "1.2.840.113549.1.9.15", "1.3.6.1.5.5.7.1.3"}
    for e in exts:
        if e not in known and not e.startswith("1.2.840.113583.1.1.9."):
            fail("7.1.2.3", "extension %s is not in the profile" % e)
    # 7.1.4.2: the subject attributes of the validation type
    attrs = {}
    for _, rs, re_ in children(d, subj_s, subj_e):
        for _, a_s, a_e in children(d, rs, re_):
            at = children(d, a_s, a_e)
            name = ATTR.get(oid(d[at[0][1]:at[0][2]]), oid(d[at[0][1]:at[0][2]]))
            attrs.setdefault(name, []).append(d[at[1][1]:at[1][2]].decode("utf-8", "replace"))
    if vtype in SUBJECT:
        table = SUBJECT[vtype]
        for a in attrs:
            if a not in table or (gen == "strict" and vtype == "sponsor" and
                                  a in STRICT_SPONSOR_NOT):
                fail("7.1.4.2", "%s SHALL NOT be in a %s-validated subject" % (a, vtype))
        for a, rule in table.items():
            if rule == "SHALL" and a not in attrs:
                fail("7.1.4.2", "%s SHALL be in a %s-validated subject" % (a, vtype))
        if vtype == "sponsor" and not ({"givenName", "surname", "pseudonym"} & set(attrs)):
            fail("7.1.4.2.5", "givenName and/or surname, or pseudonym, SHALL be present")
        if vtype == "mailbox":
            for cn in attrs.get("commonName", []):
                if cn not in mails:
                    fail("7.1.4.2.2 a", "commonName %s is not a mailbox of the SAN" % cn)
        for em in attrs.get("emailAddress", []):
            if em not in mails:
                fail("7.1.4.2.1", "emailAddress %s is not repeated in the SAN" % em)
    if errs:
        for x in errs:
            print("%s FAIL %s" % (path, x))
        return False
    print("%s ok %s %s" % (path, gen, vtype))
    return True


def main():
    ok = True
    for path in sys.argv[1:]:
        try:
            ok = check(path) and ok
        except (ValueError, IndexError) as e:
            print("%s FAIL DER: %s" % (path, e))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
