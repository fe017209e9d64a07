"""A real DNS server for the tests (dnslib, UDP and TCP on 127.0.0.1), and a guard against
any lookup through the system resolver.

The server answers from :data:`ZONE`; names in :data:`SERVFAIL` get SERVFAIL, names in
:data:`SILENT` get no answer at all, and every other name is NXDOMAIN. Over UDP an
answer above 512 bytes is truncated (TC set, the question kept, no records), so the
resolver must ask again over TCP.

The guard matters: on these machines the system resolver answers NXDOMAIN for every
outside name, so a test that reached it by mistake could pass while checking nothing.
It refuses to read /etc/resolv.conf and to resolve or contact any host but 127.0.0.1,
with :class:`SystemResolverUsed`, a ``BaseException`` so no ``except Exception`` can
turn it into a verdict.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from dnslib import QTYPE, RCODE, RR, DNSError, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer

HOST = "127.0.0.1"
#: how long a test's verifier waits for one lookup: generous, the local server answers in
#: milliseconds, so a loaded machine never turns an answer into a timeout
TIMEOUT = 3.0
#: the timeout of tests that ask a server that never answers (they cost this much)
SHORT_TIMEOUT = 0.3

ZONE = "\n".join(
    [
        ". 300 IN NS a.root-servers.net.",
        "good.example.com. 300 IN MX 20 mx2.good.example.com.",
        "good.example.com. 300 IN MX 10 mx1.good.example.com.",
        "nullmx.example.com. 300 IN MX 0 .",
        "aonly.example.com. 300 IN A 192.0.2.10",
        "v6only.example.com. 300 IN AAAA 2001:db8::10",
        'parked.example.com. 300 IN TXT "v=spf1 -all"',
        "mailinator.com. 300 IN MX 10 mail.mailinator.com.",
        'flaky-a.example.com. 300 IN TXT "no MX; its A lookup fails"',
        # sender domains for the SPF, DMARC and DKIM check (test_sender_domain.py)
        'ok.senders.example. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
        'ok.senders.example. 300 IN TXT "google-site-verification=abc123"',
        '_dmarc.ok.senders.example. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@senders.example"',
        # a key in two strings, as long keys are published (each string is at most 255 bytes)
        'google._domainkey.ok.senders.example. 300 IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjANBgkqhk"',
        "nothing.senders.example. 300 IN A 192.0.2.20",
        'two-spf.senders.example. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
        'two-spf.senders.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
        'deny.senders.example. 300 IN TXT "v=spf1 -all"',
        'noinclude.senders.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
        '_dmarc.noinclude.senders.example. 300 IN TXT "v=DMARC1; p=none"',
        '_dmarc.nopolicy.senders.example. 300 IN TXT "v=DMARC1; rua=mailto:x@senders.example"',
        'nopolicy.senders.example. 300 IN TXT "v=spf1 a mx -all"',
        'send.resend.senders.example. 300 IN TXT "v=spf1 include:amazonses.com ~all"',
        '_dmarc.resend.senders.example. 300 IN TXT "v=DMARC1; p=quarantine; aspf=s"',
        'resend._domainkey.resend.senders.example. 300 IN TXT "p="',
        # providers' SPF records, as their chains are shaped (include: costs a lookup each)
        '_spf.google.com. 300 IN TXT "v=spf1 include:_netblocks.google.com '
        'include:_netblocks2.google.com include:_netblocks3.google.com ~all"',
        '_netblocks.google.com. 300 IN TXT "v=spf1 ip4:35.190.247.0/24 ~all"',
        '_netblocks2.google.com. 300 IN TXT "v=spf1 ip6:2001:4860:4000::/36 ~all"',
        '_netblocks3.google.com. 300 IN TXT "v=spf1 ip4:172.217.0.0/19 ~all"',
        'amazonses.com. 300 IN TXT "v=spf1 ip4:199.255.192.0/22 ~all"',
        'spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 -all"',
        'servers.mcsv.example. 300 IN TXT "v=spf1 ip4:205.201.128.0/20 ~all"',
        'mail.zendesk.example. 300 IN TXT "v=spf1 ip4:192.161.144.0/20 ~all"',
        'sendgrid.example. 300 IN TXT "v=spf1 ip4:167.89.0.0/17 ~all"',
        # SPF chains (test_spf_dmarc.py): 11 lookups, 3 void names, a loop, an include of a
        # domain without SPF, a redirect, a provider reached through an include
        'toolong.senders.example. 300 IN TXT "v=spf1 include:_spf.google.com '
        "include:spf.protection.outlook.com include:amazonses.com include:servers.mcsv.example "
        'include:mail.zendesk.example include:sendgrid.example a mx ~all"',
        "toolong.senders.example. 300 IN A 192.0.2.30",
        "toolong.senders.example. 300 IN MX 10 toolong.senders.example.",
        'voids.senders.example. 300 IN TXT "v=spf1 a:gone1.senders.example '
        'a:gone2.senders.example mx:gone3.senders.example ip4:192.0.2.1 ~all"',
        'loop.senders.example. 300 IN TXT "v=spf1 include:loop2.senders.example ~all"',
        'loop2.senders.example. 300 IN TXT "v=spf1 include:loop.senders.example ~all"',
        'badinclude.senders.example. 300 IN TXT "v=spf1 include:nospf.senders.example ~all"',
        "nospf.senders.example. 300 IN A 192.0.2.40",
        'redirect.senders.example. 300 IN TXT "v=spf1 redirect=_spf.google.com"',
        'nested.senders.example. 300 IN TXT "v=spf1 include:_spf.nested.senders.example ~all"',
        '_spf.nested.senders.example. 300 IN TXT "v=spf1 include:_spf.google.com '
        'ip4:192.0.2.0/24 ~all"',
        'ptr.senders.example. 300 IN TXT "v=spf1 ptr ~all"',
        # DMARC of an organizational domain (no _dmarc at the subdomain) and of a public suffix
        'news.org.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
        '_dmarc.org.example. 300 IN TXT "v=DMARC1; p=reject; sp=quarantine"',
        'mail.deep.news.org2.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
        '_dmarc.org2.example. 300 IN TXT "v=DMARC1; p=none"',
        'shop.suffix.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"',
        '_dmarc.suffix.example. 300 IN TXT "v=DMARC1; p=reject; psd=y"',
        # 40 MX records: more than 512 bytes, so truncated over UDP and fetched over TCP
        *(f"big.example.com. 300 IN MX {n} mx{n:02d}.mail.big.example.com." for n in range(40)),
    ]
)
#: (name, query type) answered SERVFAIL; "*" for every type
SERVFAIL = {("broken.example.com.", "*"), ("flaky-a.example.com.", "A")}
#: answers over UDP are cut at this size (RFC 1035 without EDNS); the client retries over TCP
UDP_LIMIT = 512
#: names whose queries are never answered
SILENT = {"silent.example.com."}


class SystemResolverUsed(BaseException):
    """A test reached for the system resolver or a host other than 127.0.0.1."""


@attrs.define
class Zones:
    """dnslib's resolver interface over :data:`ZONE`; records every query it receives."""

    records: list[RR] = attrs.field(factory=lambda: RR.fromZone(ZONE))
    queries: list[tuple[str, str, str]] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        name, qtype = str(request.q.qname).lower(), QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, qtype, handler.protocol))
        if name in SILENT:
            raise DNSError("dropped on purpose")  # the handler sends nothing back
        reply = request.reply()
        if (name, qtype) in SERVFAIL or (name, "*") in SERVFAIL:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        owned = [rr for rr in self.records if str(rr.rname).lower() == name]
        if not owned:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rr in owned:
            if rr.rtype == request.q.qtype:
                reply.add_answer(rr)
        if handler.protocol == "udp" and len(reply.pack()) > UDP_LIMIT:
            truncated = request.reply()  # the question stays, the answers go
            truncated.header.tc = 1
            return truncated
        return reply

    def asked(self, name: str, qtype: str | None = None) -> list[tuple[str, str, str]]:
        """The queries received for ``name`` (and ``qtype``), as (name, type, protocol)."""
        with self.lock:
            return [q for q in self.queries if q[0] == name and (qtype is None or q[1] == qtype)]


@attrs.frozen
class Server:
    port: int
    zones: Zones

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


def _start(zones: Zones) -> tuple[DNSServer, DNSServer]:
    quiet = DNSLogger(log="-request,-reply,-truncated,-error", logf=lambda _: None)
    for _ in range(10):  # the UDP port may be taken for TCP between binding and binding
        udp = DNSServer(zones, address=HOST, port=0, logger=quiet)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(zones, address=HOST, port=port, tcp=True, logger=quiet)
        except OSError:
            udp.server.server_close()
            continue
        udp.start_thread()
        tcp.start_thread()
        return udp, tcp
    raise RuntimeError("no free port for the test DNS server on UDP and TCP")


@pytest.fixture(scope="session")
def _dns_servers() -> Iterator[Server]:
    zones = Zones()
    servers = _start(zones)
    try:
        yield Server(servers[0].server.server_address[1], zones)
    finally:
        for server in servers:
            server.server.shutdown()
            server.server.server_close()


@pytest.fixture
def dns_server(_dns_servers: Server) -> Server:
    """The local DNS server, with this test's queries only."""
    with _dns_servers.zones.lock:
        _dns_servers.zones.queries.clear()
    return _dns_servers


@pytest.fixture
def settings(dns_server: Server) -> dict[str, Any]:
    """Config keys of a ``dns`` verifier asking only the local server."""
    return {"nameservers": [dns_server.address], "timeout": TIMEOUT}


@pytest.fixture
def impatient(dns_server: Server) -> dict[str, Any]:
    """Config keys for tests where no answer comes: a short timeout keeps them fast."""
    return {"nameservers": [dns_server.address], "timeout": SHORT_TIMEOUT}


_LOOPBACK = {HOST, "localhost"}


def _refuse(what: str) -> SystemResolverUsed:
    return SystemResolverUsed(
        f"{what}: tests may only ask the local DNS server on {HOST}; give the verifier "
        "nameservers=[dns_server.address]"
    )


@pytest.fixture(autouse=True)
def no_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every path to the system resolver, or to any other host, fail loudly."""
    import dns.resolver

    def read_resolv_conf(*_: Any, **__: Any) -> None:
        raise _refuse("the system resolver's configuration (/etc/resolv.conf) was read")

    monkeypatch.setattr(dns.resolver.BaseResolver, "read_resolv_conf", read_resolv_conf)
    monkeypatch.setattr(dns.resolver, "default_resolver", None)

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOOPBACK and host is not None:
            raise _refuse(f"getaddrinfo({host!r}) would ask the system resolver")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def guarded(method: Any) -> Any:
        def call(self: socket.socket, *args: Any) -> Any:
            address = args[-1]
            if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOOPBACK:
                raise _refuse(f"a socket reached for {address!r}")
            return method(self, *args)

        return call

    monkeypatch.setattr(socket.socket, "connect", guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(socket.socket.connect_ex))
    monkeypatch.setattr(socket.socket, "sendto", guarded(socket.socket.sendto))
