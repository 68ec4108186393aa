#!/usr/bin/env python3
"""selfclient.py — talk to provd-self from tests, as a browser would.

    selfclient.py URL get                       headers and outcome of GET /
    selfclient.py URL change LOGIN CUR NEW [CONFIRM] [--source ADDR]
                  [--no-cookie] [--other-cookie] [--token TOKEN] [--no-token]
                  [--time]                  (adds the POST's milliseconds)
    selfclient.py URL flood LOGIN N [--source ADDR] [--xff ADDR]
                  [--each-from ADDR] [--new PASSWORD]
                                                N wrong attempts; counts per status
                                                (--xff: X-Forwarded-For sent, with
                                                {i} replaced by the attempt's number;
                                                --each-from A.B.C.D: attempt i, from 0,
                                                gets its form and posts from
                                                A.B.C.D+i, an address of its own)
    selfclient.py URL timed [--source ADDR]    ms for one GET of the form

Prints "STATUS OUTCOME" for get/change (OUTCOME is the page's
data-outcome), and the response headers after "get".  Standard library
only.
"""
import http.client
import re
import sys
import time
import urllib.parse


def connect(url, source):
    u = urllib.parse.urlsplit(url)
    src = (source, 0) if source else None
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                      source_address=src)


def get_form(url, source=None, xff=None):
    c = connect(url, source)
    c.request("GET", "/", headers={"X-Forwarded-For": xff} if xff else {})
    r = c.getresponse()
    body = r.read().decode()
    headers = r.getheaders()
    cookie = r.getheader("Set-Cookie", "")
    m = re.search(r'name="csrf" value="([^"]+)"', body)
    token = m.group(1) if m else ""
    nonce = cookie.split(";")[0].split("=", 1)[1] if "=" in cookie else ""
    c.close()
    return r.status, headers, body, token, nonce


def outcome(body):
    m = re.search(r'data-outcome="([^"]+)"', body)
    return m.group(1) if m else "-"


def post(url, fields, nonce, source=None, xff=None):
    c = connect(url, source)
    data = urllib.parse.urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if xff:
        headers["X-Forwarded-For"] = xff
    if nonce is not None:
        headers["Cookie"] = "provd_self_csrf=" + nonce
    c.request("POST", "/", body=data, headers=headers)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def option(args, name, default=None, flag=False):
    """Remove every NAME (and its value) from args; the first one counts."""
    found = None
    while name in args:
        i = args.index(name)
        if flag:
            del args[i]
            value = True
        else:
            value = args[i + 1]
            del args[i:i + 2]
        if found is None:
            found = value
    if found is None:
        return False if flag else default
    return found


def main():
    args = sys.argv[1:]
    source = option(args, "--source")
    no_cookie = option(args, "--no-cookie", flag=True)
    no_token = option(args, "--no-token", flag=True)
    other_cookie = option(args, "--other-cookie", flag=True)
    timed = option(args, "--time", flag=True)
    token_override = option(args, "--token")
    xff = option(args, "--xff")
    each_from = option(args, "--each-from")
    new_pw = option(args, "--new", "Song-Hong-do-nang-2025")
    url, cmd = args[0], args[1]
    if cmd == "get":
        status, headers, body, _, _ = get_form(url, source)
        print(status, outcome(body))
        for k, v in headers:
            print(f"{k}: {v}")
        return 0
    if cmd == "timed":
        t0 = time.monotonic()
        status, _, body, _, _ = get_form(url, source)
        print(status, round((time.monotonic() - t0) * 1000, 1))
        return 0
    if cmd == "change":
        login, cur, new = args[2], args[3], args[4]
        confirm = args[5] if len(args) > 5 else new
        _, _, _, token, nonce = get_form(url, source)
        if other_cookie:        # the cookie of another form than the token's
            _, _, _, _, nonce = get_form(url, source)
        fields = {"login": login, "current": cur, "new": new,
                  "confirm": confirm}
        if not no_token:
            fields["csrf"] = token_override if token_override else token
        t0 = time.monotonic()
        status, body = post(url, fields, None if no_cookie else nonce, source)
        ms = (time.monotonic() - t0) * 1000
        if timed:
            print(status, outcome(body), round(ms, 1))
        else:
            print(status, outcome(body))
        return 0
    if cmd == "flood":
        login, n = args[2], int(args[3])
        if not each_from:
            _, _, _, token, nonce = get_form(url, source)
        counts = {}
        for i in range(n):
            if each_from:
                a, b, c, d = each_from.split(".")
                source = f"{a}.{b}.{c}.{int(d) + i}"
                _, _, _, token, nonce = get_form(url, source)
            status, body = post(url, {"login": login, "current": f"wrong-{i}",
                                      "new": new_pw, "confirm": new_pw,
                                      "csrf": token}, nonce, source,
                                xff.replace("{i}", f"{i + 1:x}") if xff else None)
            counts[status] = counts.get(status, 0) + 1
        print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        return 0
    print("usage: see the docstring", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
