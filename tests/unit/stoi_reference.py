#!/usr/bin/python3
"""Reference STOI values for tests/unit/test_stoi.cpp, from pystoi.

Rebuilds test_stoi.cpp's synthetic signals (same LCG, same formulas) in numpy and scores them
with pystoi 0.4.1 (github.com/mpariente/pystoi, the reference Python port of Taal's MATLAB
STOI), then prints the values the C++ test compares against (test_matches_pystoi).

Needs numpy, scipy (python3-scipy) and pystoi's source on the path:
    PYTHONPATH=/path/to/pystoi /usr/bin/python3 tests/unit/stoi_reference.py
Not part of the test suite: pystoi is not a Debian package.
"""
import math
import sys

import numpy as np
from pystoi import stoi

RATE = 48000
MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) * (1.0 / 9007199254740992.0)


def speechlike(seconds, rate, seed):
    rng = Lcg(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        syllable = int((0.12 + 0.18 * rng.uniform()) * rate)
        gap = int((0.03 + 0.12 * rng.uniform()) * rate)
        f0 = 90 + 110 * rng.uniform()
        f1 = 300 + 600 * rng.uniform()
        f2 = 900 + 1600 * rng.uniform()
        f3 = 2200 + 1200 * rng.uniform()
        burst = rng.uniform() < 0.3
        burst_len = int(0.06 * rate)
        if burst:
            for i in range(burst_len):
                if pos + i >= n:
                    break
                env = math.sin(math.pi * i / burst_len)
                out[pos + i] += 0.05 * env * (2 * rng.uniform() - 1)
            pos += burst_len
        amp = []
        h = 1
        while h * f0 < 4500:
            f = h * f0
            amp.append(math.exp(-((f - f1) / 150) ** 2) + 0.5 * math.exp(-((f - f2) / 200) ** 2)
                       + 0.25 * math.exp(-((f - f3) / 250) ** 2))
            h += 1
        count = max(0, min(syllable, n - pos))
        i = np.arange(count)
        env = np.sin(np.pi * i / syllable) ** 2
        t = i / rate
        v = np.zeros(count)
        for k, a in enumerate(amp):
            v += a * np.sin(2 * np.pi * (k + 1) * f0 * t)
        out[pos:pos + count] += 0.1 * env * v
        pos += syllable + gap
    return out.astype(np.float32)


def noise(n, rms, seed):
    rng = Lcg(seed)
    return np.array([rms * math.sqrt(3.0) * (2 * rng.uniform() - 1) for _ in range(n)],
                    dtype=np.float32)


def rms(x):
    return math.sqrt(np.sum(x.astype(np.float64) ** 2) / len(x))


def with_noise(x, snr_db, seed):
    return noise(len(x), rms(x) * 10 ** (-snr_db / 20), seed) + x


def with_loss(x, loss, seed):
    rng = Lcg(seed)
    y = x.copy()
    packet = RATE // 50
    p = 0
    while p + packet <= len(y):
        if rng.uniform() < loss:
            y[p:p + packet] = 0
        p += packet
    return y


def main():
    x = speechlike(6, RATE, 4)
    values = {}
    for name, snr in (("SNR10", 10), ("SNR0", 0), ("SNRM5", -5)):
        values["PYSTOI_" + name] = stoi(x, with_noise(x, snr, 7), RATE)
    values["PYSTOI_LOSS20"] = stoi(x, with_loss(x, 0.2, 11), RATE)
    x2 = speechlike(6, RATE, 2)
    values["(noise only)"] = stoi(x2, noise(len(x2), rms(x2), 99), RATE)
    for k, v in values.items():
        print(f"{k} {v:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
