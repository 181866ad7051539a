"""Which OpenBLAS a peer process loaded: shared by bench/peers/train.py and matmul.py.

openblas_loaded() -> (library path, core its kernels were picked for, build config, threads), or
None when no OpenBLAS is mapped into this process (numpy or torch on the reference BLAS).
"""

import ctypes


def openblas_loaded():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "openblas" in p.lower() or "libblas" in p.lower():
                libs.add(p)
    for lib in sorted(libs):
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_corename.restype = ctypes.c_char_p
            h.openblas_get_config.restype = ctypes.c_char_p
            return (lib, h.openblas_get_corename().decode(), h.openblas_get_config().decode().strip(), h.openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None
