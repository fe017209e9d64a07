"""SMTP throughput: the plugin's pooled connections versus a new smtplib connection per message.

A local aiosmtpd server runs in a child process (so client and server do not
share a GIL) on 127.0.0.1 and an ephemeral port; it accepts and discards every
message and counts messages and connections. The same messages are sent, in the
same run, to the same server by:

* ``smtplib``: the standard library, one connection per message (connect,
  EHLO, [STARTTLS, EHLO, AUTH,] MAIL, RCPT, DATA, QUIT), each message rendered with
  the standard library's ``email`` package (``build_message``) in the timed loop, the
  baseline of the "vs smtplib" column; and the same with the bytes rendered before
  timing starts (the protocol's cost alone);
* ``plugin``: ``aicmo_gateway_smtp``'s sender, one send at a time, reusing its
  pooled connection (it renders each message itself);
* ``plugin x2``: the same with ``pool_size = 2`` and two sends in flight.

Variants: ``plain`` (no TLS, no login) and ``starttls`` (STARTTLS and AUTH on
every connection, certificates from a throw-away test CA).

``--rtt-ms`` puts a proxy between clients and server that delays every byte by
half the round trip each way (and the connection by one round trip), as a
network between an application and a mail provider does.

The messages are sent in ``--rounds`` chunks, the clients taking turns, so that noise on a
shared machine slows them alike.

Run: ``python benchmarks/smtp_throughput.py [--messages 500] [--variant plain starttls]
[--rtt-ms 10] [--rounds 5]`` (needs the plugin installed with its ``test`` extra: aiosmtpd,
trustme).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import smtplib
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py (run as a file)

USERNAME = "bench@example.com"
PASSWORD = "bench-password"
LOCAL_HOSTNAME = "bench-client.example.com"


# -- the server (child process) ------------------------------------------------------


async def delayed_proxy(upstream: int, rtt: float) -> asyncio.Server:
    """A TCP proxy to ``upstream`` that delays every byte by ``rtt / 2`` in each direction.

    The connection itself becomes usable one ``rtt`` after accept (the TCP handshake).
    """
    loop = asyncio.get_running_loop()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)
                await writer.drain()
            writer.close()

        delivery = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + rtt / 2, data))
        except ConnectionError:
            pass
        queue.put_nowait((0.0, b""))
        await delivery

    async def accept(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(rtt)
        server_r, server_w = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(
            pump(client_r, server_w), pump(server_r, client_w), return_exceptions=True
        )

    return await asyncio.start_server(accept, "127.0.0.1", 0)


def serve(
    cert_files: tuple[str, str] | None,
    rtt_ms: float,
    port_out: Any,
    messages: Synchronized[int],
    connections: Synchronized[int],
) -> None:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    class Discard:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with messages.get_lock():
                messages.value += 1
            return "250 2.0.0 Ok: queued"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    context = None
    if cert_files:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert_files)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory() -> SMTP:
        with connections.get_lock():
            connections.value += 1
        return SMTP(
            Discard(),
            hostname="localhost",
            tls_context=context,
            authenticator=authenticate if context else None,
            loop=loop,
        )

    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
    if rtt_ms > 0:
        upstream = server.sockets[0].getsockname()[1]
        server = loop.run_until_complete(delayed_proxy(upstream, rtt_ms / 1000))
    port_out.send(server.sockets[0].getsockname()[1])
    loop.run_forever()


# -- the clients ---------------------------------------------------------------------


def build_messages(count: int) -> list[Any]:
    from aicmo_gateway.ports import EmailMessage

    return [
        EmailMessage(
            to=f"Lead {n} <lead{n}@example.com>",
            sender="Sales <sales@example.com>",
            subject=f"Our offer for you, lead {n}",
            text=f"Hello lead {n},\n\nhere is our offer.\n\n-- \nSales\n" * 5,
            html=f"<p>Hello <b>lead {n}</b>,</p><p>here is our offer.</p>" * 5,
            message_id=f"<bench-{n}@example.com>",
        )
        for n in range(count)
    ]


def stdlib_render(messages: list[Any]) -> list[tuple[tuple[str, ...], bytes]]:
    """Each message's envelope and bytes, built with the standard library's ``email`` package."""
    from aicmo_gateway.mime import SMTP_POLICY, build_message

    return [(m.recipients, build_message(m).as_bytes(policy=SMTP_POLICY)) for m in messages]


def smtplib_loop(
    port: int,
    messages: list[Any],
    tls: ssl.SSLContext | None,
    rendered: list[tuple[tuple[str, ...], bytes]] | None = None,
) -> None:
    """One connection per message; renders the messages first unless ``rendered`` is given."""
    for recipients, data in rendered if rendered is not None else stdlib_render(messages):
        with smtplib.SMTP("127.0.0.1", port, local_hostname=LOCAL_HOSTNAME, timeout=30) as smtp:
            if tls is not None:
                smtp.starttls(context=tls)
                smtp.login(USERNAME, PASSWORD)
            smtp.sendmail("sales@example.com", list(recipients), data)


def plugin_sends(port: int, messages: list[Any], ca_file: str | None, pool_size: int) -> None:
    from aicmo_gateway_smtp.plugin import smtp_sender

    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "local_hostname": LOCAL_HOSTNAME,
        "pool_size": pool_size,
        "security": "none",
    }
    if ca_file:
        settings.update(security="starttls", ca_file=ca_file, username=USERNAME, password=PASSWORD)
    sender = smtp_sender(**settings)

    async def run() -> None:
        queue = list(reversed(messages))

        async def worker() -> None:
            while queue:
                await sender.send(queue.pop())

        await asyncio.gather(*(worker() for _ in range(pool_size)))
        await sender.aclose()

    asyncio.run(run())


# -- the run -------------------------------------------------------------------------


def measure(
    clients: list[tuple[str, Callable[[list[Any]], None]]],
    mails: list[Any],
    rounds: int,
    messages: Synchronized[int],
    connections: Synchronized[int],
) -> list[dict[str, Any]]:
    """Each client sends every message; the messages are split into ``rounds`` chunks and the
    clients take turns chunk by chunk, so a noisy neighbour slows them all alike."""
    seconds = dict.fromkeys((label for label, _ in clients), 0.0)
    opened = dict.fromkeys(seconds, 0)
    size = -(-len(mails) // rounds)
    for chunk in (mails[i : i + size] for i in range(0, len(mails), size)):
        for label, run in clients:
            before_m, before_c = messages.value, connections.value
            t0 = time.perf_counter()
            run(chunk)
            seconds[label] += time.perf_counter() - t0
            time.sleep(0.1)  # let the server count the last message
            received = messages.value - before_m
            if received != len(chunk):
                raise SystemExit(f"{label}: the server received {received} of {len(chunk)}")
            opened[label] += connections.value - before_c
    return [
        {
            "label": label,
            "seconds": seconds[label],
            "rate": len(mails) / seconds[label],
            "connections": opened[label],
        }
        for label, _ in clients
    ]


def run_variant(
    variant: str, count: int, rtt_ms: float, workdir: Path, rounds: int = 5
) -> list[dict[str, Any]]:
    tls_client = None
    cert_files = None
    ca_file = None
    if variant == "starttls":
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert_file, key_file = workdir / "cert.pem", workdir / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
        ca_path = workdir / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        cert_files, ca_file = (str(cert_file), str(key_file)), str(ca_path)
        tls_client = ssl.create_default_context(cafile=ca_file)

    ctx = multiprocessing.get_context("spawn")
    messages, connections = ctx.Value("i", 0), ctx.Value("i", 0)
    port_in, port_out = ctx.Pipe(duplex=False)
    server = ctx.Process(
        target=serve, args=(cert_files, rtt_ms, port_out, messages, connections), daemon=True
    )
    server.start()
    try:
        if not port_in.poll(20):
            raise SystemExit("the benchmark SMTP server did not start")
        port = port_in.recv()
        mails = build_messages(count)
        plugin_sends(port, build_messages(5), ca_file, 1)  # warm up imports and the server
        ahead = {id(m): item for m, item in zip(mails, stdlib_render(mails), strict=True)}
        clients: list[tuple[str, Callable[[list[Any]], None]]] = [
            (
                "smtplib, new connection per message",
                lambda chunk: smtplib_loop(port, chunk, tls_client),
            ),
            (
                "smtplib, the same with the bytes rendered before timing",
                lambda chunk: smtplib_loop(port, chunk, tls_client, [ahead[id(m)] for m in chunk]),
            ),
            (
                "plugin, pool_size=1 (reused connection)",
                lambda chunk: plugin_sends(port, chunk, ca_file, 1),
            ),
            (
                "plugin, pool_size=2 (2 sends in flight)",
                lambda chunk: plugin_sends(port, chunk, ca_file, 2),
            ),
        ]
        return measure(clients, mails, rounds, messages, connections)
    finally:
        server.terminate()
        server.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="messages per client")
    parser.add_argument(
        "--variant", nargs="+", choices=["plain", "starttls"], default=["plain", "starttls"]
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="chunks the clients take turns on (each plugin chunk opens its own pool)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="simulated network round trip between client and server (0: plain loopback)",
    )
    args = parser.parse_args(argv)
    print(f"machine: {describe()}")
    print(f"command: python {' '.join([sys.argv[0], *(argv or sys.argv[1:])])}")
    network = f"{args.rtt_ms:g} ms simulated round trip" if args.rtt_ms else "loopback"
    print(
        f"{args.messages} messages per client in {args.rounds} turns, aiosmtpd in a child "
        f"process, {network}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variant:
            rows = run_variant(variant, args.messages, args.rtt_ms, Path(tmp), args.rounds)
            base = rows[0]["rate"]
            print(f"### {variant}\n")
            print("| client | messages/s | seconds | connections | vs smtplib |")
            print("|---|---:|---:|---:|---:|")
            for row in rows:
                print(
                    f"| {row['label']} | {row['rate']:.0f} | {row['seconds']:.2f} | "
                    f"{row['connections']} | {row['rate'] / base:.1f}x |"
                )
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
