#!/usr/bin/env python3
"""A real SMTP server for tests, built on aiosmtpd; it delivers into a Dovecot maildir tree.

Run it with the test virtualenv's python (scripts/setup.sh test creates target/testenv/py):

    target/testenv/py/bin/python scripts/mail/smtp_server.py --port 2525 \\
        --maildir-root DIR/mail [--user U --password P] [--copy-dir DIR/smtp-copies]

Listens on 127.0.0.1 only. With --user/--password a client must AUTH (PLAIN or LOGIN; no TLS
needed, it is loopback) before MAIL FROM. For each accepted recipient the message, with a
Return-Path and a Received header added like an MTA does, is written into the maildir of the
user named by the recipient address lowercased without its +tag (DIR/mail/<user>/tmp, then renamed
into new/, owned by the maildir root's uid/gid, the one Dovecot reads as), so Dovecot's IDLE
clients hear of it. With --copy-dir every accepted message is also kept there as <n>.eml with its
envelope in <n>.json ({"mail_from", "rcpt_tos"}), written before the 250 reply to DATA.

Failures, decided per recipient at RCPT time by the local part:
    tempfail...@  ->  451 4.3.0 Temporary failure, try again later
    reject...@    ->  550 5.1.1 <addr>: Recipient address rejected: User unknown

Prints "ready 127.0.0.1:<port>" once listening (--port 0 picks a free port) and exits cleanly,
printing "stopped", on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email.utils
import itertools
import json
import logging
import os
import signal
import socket
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

TEMPFAIL = "451 4.3.0 Temporary failure, try again later"


def reject_reply(address):
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def mailbox_user(address):
    """The Dovecot user a recipient is delivered to: the address lowercased, without +tag."""
    address = address.strip().strip("<>")
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    local = local.split("+", 1)[0]
    return (f"{local}@{domain}" if at else local).lower()


class Maildirs:
    """Delivery into DIR/<user>/{tmp,new,cur}, owned by the mail uid/gid."""

    def __init__(self, root, uid, gid, hostname):
        self.root = root
        self.uid = uid
        self.gid = gid
        self.hostname = hostname.replace("/", "_").replace(":", "_")
        self.counter = itertools.count(1)

    def _mkdir(self, path):
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o700, exist_ok=True)
            self._chown(path)

    def _chown(self, path):
        if os.geteuid() == 0 and (self.uid, self.gid) != (0, 0):
            os.chown(path, self.uid, self.gid)

    def deliver(self, user, data):
        if not user or "/" in user or user.startswith("."):
            raise ValueError(f"unusable mailbox name {user!r}")
        base = os.path.join(self.root, user)
        self._mkdir(self.root)
        self._mkdir(base)
        for sub in ("cur", "new", "tmp"):
            self._mkdir(os.path.join(base, sub))
        now = time.time()
        name = "%d.M%dP%dQ%d.%s,S=%d" % (
            int(now),
            int((now % 1) * 1_000_000),
            os.getpid(),
            next(self.counter),
            self.hostname,
            len(data),
        )
        tmp = os.path.join(base, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        self._chown(tmp)
        os.rename(tmp, os.path.join(base, "new", name))
        return name


class Copies:
    """<n>.eml and <n>.json for every accepted message, <n> counting from 1."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        existing = [int(n[:-4]) for n in os.listdir(directory) if n.endswith(".eml") and n[:-4].isdigit()]
        self.counter = itertools.count(max(existing, default=0) + 1)

    def write(self, mail_from, rcpt_tos, data):
        n = next(self.counter)
        envelope = json.dumps({"mail_from": mail_from, "rcpt_tos": list(rcpt_tos)})
        # The .json first and each file renamed into place, so a reader that sees <n>.eml complete
        # also finds <n>.json.
        for suffix, content in ((".json", envelope.encode()), (".eml", data)):
            tmp = os.path.join(self.dir, f".{n}{suffix}.tmp")
            with open(tmp, "wb") as f:
                f.write(content)
            os.rename(tmp, os.path.join(self.dir, f"{n}{suffix}"))


class Handler:
    def __init__(self, maildirs, copies, hostname):
        self.maildirs = maildirs
        self.copies = copies
        self.hostname = hostname

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rpartition("@")[0].lower() if "@" in address else address.lower()
        if local.startswith("tempfail"):
            return TEMPFAIL
        if local.startswith("reject"):
            return reject_reply(address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    def received(self, session, envelope, rcpt):
        helo = session.host_name or "unknown"
        ip = session.peer[0] if session.peer else "unknown"
        protocol = "ESMTPA" if session.authenticated else ("ESMTP" if session.extended_smtp else "SMTP")
        date = email.utils.format_datetime(email.utils.localtime())
        return (
            f"Received: from {helo} (localhost [{ip}])\r\n"
            f"\tby {self.hostname} (aiosmtpd) with {protocol} id {os.urandom(6).hex().upper()}\r\n"
            f"\tfor <{rcpt}>; {date}\r\n"
        ).encode()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        try:
            for rcpt in envelope.rcpt_tos:
                headers = f"Return-Path: <{mail_from}>\r\n".encode() + self.received(session, envelope, rcpt)
                self.maildirs.deliver(mailbox_user(rcpt), headers + data)
            if self.copies is not None:
                self.copies.write(mail_from, envelope.rcpt_tos, data)
        except Exception as e:  # a test server: say what went wrong, in the reply and the log
            logging.exception("delivery failed")
            return f"451 4.3.0 Local delivery failed: {e}"
        return "250 2.0.0 OK: queued"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode(errors="replace") == user and auth_data.password.decode(errors="replace") == password
        return AuthResult(success=ok, handled=False)

    return authenticate


async def serve(args):
    st = os.stat(args.maildir_root) if os.path.isdir(args.maildir_root) else None
    uid = args.mail_uid if args.mail_uid is not None else (st.st_uid if st else os.geteuid())
    gid = args.mail_gid if args.mail_gid is not None else (st.st_gid if st else os.getegid())
    maildirs = Maildirs(args.maildir_root, uid, gid, args.hostname)
    copies = Copies(args.copy_dir) if args.copy_dir else None
    handler = Handler(maildirs, copies, args.hostname)

    auth = {}
    if args.user is not None:
        auth = dict(
            authenticator=authenticator_for(args.user, args.password or ""),
            auth_required=True,
            auth_require_tls=False,
        )

    def factory():
        return SMTP(
            handler,
            hostname=args.hostname,
            ident="Convergence test SMTP",
            data_size_limit=args.size_limit,
            enable_SMTPUTF8=True,
            **auth,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=args.port, family=socket.AF_INET)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready 127.0.0.1:{port}", flush=True)
    await stop.wait()
    server.close()
    print("stopped", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--maildir-root", required=True, help="Dovecot's mail dir: <root>/<user>/{cur,new,tmp}")
    p.add_argument("--user", help="require AUTH PLAIN/LOGIN with this user name")
    p.add_argument("--password", help="the password for --user")
    p.add_argument("--copy-dir", help="also keep every accepted message here (<n>.eml + <n>.json)")
    p.add_argument("--hostname", default="smtp.test", help="name in the greeting and Received headers")
    p.add_argument("--mail-uid", type=int, help="owner of delivered files (default: the maildir root's)")
    p.add_argument("--mail-gid", type=int, help="group of delivered files (default: the maildir root's)")
    p.add_argument("--size-limit", type=int, default=64 * 1024 * 1024, help="SIZE limit in bytes")
    p.add_argument("--verbose", action="store_true", help="log every SMTP session")
    args = p.parse_args()
    if args.password is not None and args.user is None:
        p.error("--password needs --user")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    # aiosmtpd warns on every connection that AUTH without TLS is insecure; on loopback it is meant.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    if not args.verbose:
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
