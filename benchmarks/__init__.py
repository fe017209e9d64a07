"""Scenario and overhead benchmarks of the chain, against the peers a Python user would pick.

``python -m benchmarks.run`` runs everything and writes ``benchmarks/results.json``;
see ``benchmarks/README.md`` ("Chain scenarios") for the recorded figures.
"""
