#!/usr/bin/env python3
"""The polynomial of math.ts's tanhF32 below T = 0.625: tanh x = x + x*u*P(u), u = x^2.

P has degree 5 in u. It is fitted to (tanh(x)/x - 1)/u on Chebyshev nodes of [0, T], weighted so
that the error measured is tanh's relative error, by least squares re-weighted toward the minimax
(Lawson's iteration). The coefficients are printed as float32 values, the way math.ts holds them.
Their own error (exact arithmetic) is ~0.04 float32 ulp; evaluated in float32 arithmetic,
tanhF32 is within 2 ulps of the correctly rounded tanh (test/core/math.test.ts).

    python3 scripts/fit-tanh.py [T] [degree]     # numpy; the defaults are math.ts's: 0.625 5
"""
import sys

import numpy as np

T = float(sys.argv[1]) if len(sys.argv) > 1 else 0.625
DEGREE = int(sys.argv[2]) if len(sys.argv) > 2 else 5

n = 4000
x = T * (0.5 + 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n))  # Chebyshev nodes on [0, T]
x = x[x > 1e-4]
u = x * x
target = (np.tanh(x) / x - 1) / u          # P(u)
weight = u / (np.tanh(x) / x)              # an error e in P is an error u*e/(tanh(x)/x) in tanh, relative
V = np.vander(u, DEGREE + 1, increasing=True)
lawson = np.ones_like(u)
for _ in range(60):
    s = weight * np.sqrt(lawson)
    c, *_ = np.linalg.lstsq(V * s[:, None], target * s, rcond=None)
    e = np.abs((V @ c - target) * weight)
    lawson = np.maximum(lawson * e / e.mean(), 1e-12)

c32 = c.astype(np.float32)
err = np.abs((V @ c32.astype(np.float64) - target) * weight).max()
print(f"T = {T}, degree {DEGREE}: max relative error {err:.3g} ({err / 2**-24:.3f} float32 ulp) with float32 coefficients")
print("P: [" + ", ".join(repr(float(v)) for v in c32) + "]")
