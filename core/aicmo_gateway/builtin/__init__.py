"""The providers that ship with the core, usable with no account anywhere.

* ``noop``: one provider per port that performs nothing and says so
  (``performed=False``, empty reads), for tests and dry runs.
* ``maildir``: an email sender and a reply fetcher on a local Maildir, real
  RFC 5322 files a person can open with any mail client.
* ``sqlite``: a small CRM in one SQLite file, safe to share between processes.

They are registered by :mod:`aicmo_gateway.builtin.plugin` through the core's
own ``aicmo_gateway`` entry point, exactly like a third-party plugin.
"""
