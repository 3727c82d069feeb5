"""numpy's process settings (registry/cpu.py), applied before numpy is imported."""

from __future__ import annotations

from registry.cpu import AVX512_GROUP, numpy_environment, slow_avx512_sort

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu vme sse2 avx avx2 avx512f avx512dq avx512bw avx512vl
"""
ZEN3 = ZEN4.replace(" avx512f avx512dq avx512bw avx512vl", "")
ZEN5 = ZEN4.replace("cpu family\t: 25", "cpu family\t: 26")
INTEL = ZEN4.replace("AuthenticAMD", "GenuineIntel").replace("cpu family\t: 25", "cpu family\t: 6")


def test_only_zen4_with_avx512_has_the_slow_sorts():
    assert slow_avx512_sort(ZEN4)
    assert not slow_avx512_sort(ZEN3)  # no AVX-512 kernels to avoid
    assert not slow_avx512_sort(ZEN5)
    assert not slow_avx512_sort(INTEL)
    assert not slow_avx512_sort("")


def test_avx512_kernels_are_turned_off_on_zen4_unless_the_environment_says(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(ZEN4)
    assert numpy_environment({}, info) == {"OPENBLAS_NUM_THREADS": "1",
                                           "NPY_DISABLE_CPU_FEATURES": AVX512_GROUP}
    chosen = {"OPENBLAS_NUM_THREADS": "4", "NPY_DISABLE_CPU_FEATURES": ""}
    assert numpy_environment(chosen, info) == {}
    info.write_text(INTEL)
    assert numpy_environment({}, info) == {"OPENBLAS_NUM_THREADS": "1"}
    assert numpy_environment({}, tmp_path / "missing") == {"OPENBLAS_NUM_THREADS": "1"}
