"""The abuse suite: inputs an attacker or a careless user would send, against every surface.

Run with ``nox -s abuse``: it needs the in-repository plugins installed next to the core (the
SMTP plugin's aiosmtpd server, the IMAP plugin's cursor decoder), so the core's own ``tests``
session does not collect it. ``docs/reliability.md`` records what each module guarantees and
how many cases it tries.
"""
