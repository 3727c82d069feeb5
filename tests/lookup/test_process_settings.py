"""Settings the registry gives its own process (they decide a lookup's CPU time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _blas_threads_after_importing_registry(env: dict[str, str]) -> str:
    code = "import os, registry, numpy; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    return out.stdout.strip()


def test_the_registry_runs_numpy_on_one_blas_thread_unless_told_otherwise():
    """OpenBLAS's own threads only spun beside gunicorn's requests (a query's
    fingerprint took twice the CPU): the package sets one thread before numpy loads."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _blas_threads_after_importing_registry(env) == "1"
    assert _blas_threads_after_importing_registry(env | {"OPENBLAS_NUM_THREADS": "3"}) == "3"
