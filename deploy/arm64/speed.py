#!/usr/bin/env python3
"""The kiosk's scrypt (one run per ticket code or passphrase, n=2^13, r=8, p=1:
kiosk/core/codes.py DEFAULT_SCRYPT_N), timed with this Python: the median of 5 runs in ms.
deploy/arm64-check.sh runs it inside the emulated arm64 root and outside, for its speed line."""

import hashlib
import os
import platform
import statistics
import time

N, R, P = 2**13, 8, 1


def once() -> float:
    began = time.perf_counter()
    hashlib.scrypt(b"acorn-bloom-civic-dwarf", salt=os.urandom(16), n=N, r=R, p=P, dklen=32)
    return time.perf_counter() - began


if __name__ == "__main__":
    print(f"scrypt n=2^13: {statistics.median(once() for _ in range(5)) * 1000:.0f} ms ({platform.machine()})")
