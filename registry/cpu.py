"""Process settings that numpy reads once, when it is first imported.

:mod:`registry` applies them before anything imports numpy; each setting given
explicitly in the environment wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

#: numpy's dispatch group of the AVX-512 kernels (numpy 2.x), turned off on
#: :func:`slow_avx512_sort` processors.
AVX512_GROUP = "X86_V4"


def slow_avx512_sort(cpuinfo: str) -> bool:
    """Whether ``cpuinfo`` (the text of /proc/cpuinfo) describes an AMD Zen 4
    processor (family 25 with AVX-512).

    numpy sorts with AVX-512 kernels (x86-simd-sort) whenever the processor has
    them. They rely on compress-store instructions, which Zen 4 runs in microcode:
    on this machine's EPYC, ``np.sort`` of 650,000 int64 took 43 ms with them and
    9 ms with numpy's AVX2 kernels; ``np.partition`` 7.0 and 1.4 ms. The matchers
    sort hundreds of thousands of hits per lookup (benchmarks/README_image.md,
    "Session 13")."""
    return ("AuthenticAMD" in cpuinfo
            and re.search(r"^cpu family\s*:\s*25\s*$", cpuinfo, re.M) is not None
            and re.search(r"^flags\s*:.*\bavx512f\b", cpuinfo, re.M) is not None)  # fmt: skip


def numpy_environment(environ: Mapping[str, str],
                      cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, str]:  # fmt: skip
    """numpy's process settings missing from ``environ`` (to add to it).

    * One BLAS thread per process: the registry's matrix products are small (a
      query's spectrogram through the filter bank) and gunicorn already runs requests
      side by side; OpenBLAS's own threads only spun beside them, doubling the CPU
      time of an audio query's fingerprint (87-94 -> 47 ms, benchmarks/README_audio.md,
      "Session 11").
    * On a :func:`slow_avx512_sort` processor, numpy's AVX-512 kernels are turned off
      (``NPY_DISABLE_CPU_FEATURES``); its AVX2 ones remain. Set
      ``NPY_DISABLE_CPU_FEATURES`` (even empty) to choose otherwise.
    """
    out = {} if "OPENBLAS_NUM_THREADS" in environ else {"OPENBLAS_NUM_THREADS": "1"}
    if "NPY_DISABLE_CPU_FEATURES" in environ:
        return out
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return out
    if slow_avx512_sort(text):
        out["NPY_DISABLE_CPU_FEATURES"] = AVX512_GROUP
    return out
