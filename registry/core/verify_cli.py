"""Console script ``tamga-verify``: the standalone verifier's ``main``."""

from registry.core.tamga_verify import main

__all__ = ["main"]
