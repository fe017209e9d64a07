"""The configuration: loading and validating the TOML file (or a mapping), ``${ENV}``
references, provider settings, and building the chains it describes.

Layer: above ``engine``; imports the engine, state, plugins and the records.
"""
