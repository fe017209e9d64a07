"""The plugin contract and its loading: hookspecs, ``ProviderType``, discovery, the registry.

Layer: above the records (``ports``, ``outcome``, ``errors``, ``secret``); imports nothing else.
"""
