"""Tamga's domain core: plain Python with no Flask.

Fingerprinting, matching indexes, the ledger and certificates live here. Every
function takes its stores, keys and limits as arguments, so the same code serves
the web app, background workers, the CLI and the offline verifier.
"""
