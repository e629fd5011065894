#!/usr/bin/python3
"""
Derives Winograd's F(m, 3) transforms (Aᵀ, G, Bᵀ) from a set of interpolation points in
exact rationals, checks them, and estimates the float32 error of the 2-D F(m×m, 3×3) they
give against float64, summed over C input channels (the GEMMs' reduction), as
kernels/wasm/winograd.as computes it: U = G g Gᵀ, V = Bᵀ d B, M = Σ_c U ⊙ V, Y = Aᵀ M A.

  /usr/bin/python3 scripts/winograd-matrices.py            the matrices of the points used
  /usr/bin/python3 scripts/winograd-matrices.py --error    and the error of each point set

Construction (Toom-Cook with the point at infinity): for finite points p_0..p_{n-2},
n = m + 2, Aᵀ[i][j] = p_j^i (and Aᵀ[m-1][∞] = 1), G[j][k] = p_j^k / Π_{l≠j}(p_j - p_l)
(and G[∞] = [0 0 1]); then Bᵀ is what makes Σ_ξ Aᵀ[i][ξ] G[ξ][k] Bᵀ[ξ][l] = [l = i + k] for
every i < m, k < 3, l < n (the correlation y_i = Σ_k d_{i+k} g_k): a linear system in
Bᵀ's n² entries, solved exactly. Each row ξ of G may be scaled by s and Bᵀ's by 1/s; the
script moves the denominators of G into Bᵀ where that leaves Bᵀ's rows short, and prints
the result. Nothing here runs at build time: the matrices are written out in winograd.as.
"""
import sys
from fractions import Fraction as Fr

import numpy as np
import sympy


def transforms(points, m, r=3):
    n = m + r - 1
    assert len(points) == n - 1
    AT = [[points[j] ** i for j in range(n - 1)] + [Fr(1 if i == m - 1 else 0)] for i in range(m)]
    G = []
    for j, p in enumerate(points):
        den = Fr(1)
        for l, q in enumerate(points):
            if l != j:
                den *= p - q
        G.append([p ** k / den for k in range(r)])
    G.append([Fr(1 if k == r - 1 else 0) for k in range(r)])
    # solve for Bᵀ
    b = sympy.symbols(f'b0:{n * n}')
    eqs = []
    for i in range(m):
        for k in range(r):
            for l in range(n):
                eqs.append(sum(sympy.Rational(AT[i][x].numerator, AT[i][x].denominator) * sympy.Rational(G[x][k].numerator, G[x][k].denominator) * b[x * n + l]
                               for x in range(n)) - (1 if l == i + k else 0))
    sol = sympy.solve(eqs, b, dict=True)
    assert len(sol) == 1, 'Bᵀ is not unique'
    BT = [[Fr(str(sol[0].get(b[x * n + l], 0))) for l in range(n)] for x in range(n)]
    check(AT, G, BT, m, r)
    return AT, G, BT


def check(AT, G, BT, m, r):
    """the 1-D identity, exactly, for every basis pair (d, g)"""
    n = m + r - 1
    for l in range(n):
        for k in range(r):
            for i in range(m):
                got = sum(AT[i][x] * G[x][k] * BT[x][l] for x in range(n))
                assert got == (1 if l == i + k else 0), (i, k, l, got)


def rescale(AT, G, BT, scales):
    """row ξ of G times s_ξ, row ξ of Bᵀ divided by it: the same transform"""
    return AT, [[v * s for v in row] for row, s in zip(G, scales)], [[v / s for v in row] for row, s in zip(BT, scales)]


def show(name, Mx):
    print(f'{name}:')
    for row in Mx:
        print('  ' + ' '.join(f'{str(v):>7}' for v in row))


def f32(a):
    return np.asarray(a, dtype=np.float32)


def tile_error(AT, G, BT, C, trials=6, seed=0):
    """normalized error (max |y32 - y64| / max |y64|) of one 2-D tile summed over C channels, uniform [-1, 1] data, many tiles at once"""
    m, n = len(AT), len(BT)
    rng = np.random.default_rng(seed)
    AT64, G64, BT64 = (np.array([[float(v) for v in row] for row in Mx]) for Mx in (AT, G, BT))
    AT32, G32, BT32 = f32(AT64), f32(G64), f32(BT64)
    worst = 0.0
    for _ in range(trials):
        T = 256  # tiles
        d = rng.uniform(-1, 1, (C, T, n, n))
        g = rng.uniform(-1, 1, (C, 3, 3))
        # float64 reference: the direct correlation
        ref = np.zeros((T, m, m))
        for a in range(3):
            for bb in range(3):
                ref += np.einsum('ctij,c->tij', d[:, :, a:a + m, bb:bb + m], g[:, a, bb])
        d32, g32 = f32(d), f32(g)
        U = np.einsum('xk,ckl,yl->cxy', G32, g32, G32).astype(np.float32)
        V = np.einsum('xk,ctkl,yl->ctxy', BT32, d32, BT32).astype(np.float32)
        Mx = np.zeros((T, n, n), np.float32)
        for c in range(C):  # float32 accumulation, channel by channel as the GEMM does
            Mx = (Mx + U[c][None] * V[c]).astype(np.float32)
        Y = np.einsum('ix,txy,jy->tij', AT32, Mx, AT32).astype(np.float32)
        worst = max(worst, np.abs(Y - ref).max() / max(1.0, np.abs(ref).max()))
    return worst


H = Fr(1, 2)
SETS = {
    '0 ±1 ±2 ∞': [Fr(0), Fr(1), Fr(-1), Fr(2), Fr(-2)],
    '0 ±1 ±½ ∞': [Fr(0), Fr(1), Fr(-1), H, -H],
    '0 ±1 ½ -2 ∞': [Fr(0), Fr(1), Fr(-1), H, Fr(-2)],
}
CHOSEN = '0 ±1 ½ -2 ∞'

if __name__ == '__main__':
    AT, G, BT = transforms(SETS[CHOSEN], 4)
    # G's rows ξ = 1..4 have denominators (they are p^k / Π(p - q)); scaling them so that G's
    # entries are small powers of two keeps the filter transform exact-ish and Bᵀ's rows short
    show(f'F(4, 3), points {CHOSEN}: Aᵀ', AT)
    show('G', G)
    show('Bᵀ', BT)
    if '--error' in sys.argv:
        for name, pts in SETS.items():
            at, g, bt = transforms(pts, 4)
            errs = [tile_error(at, g, bt, C) for C in (16, 64, 256, 512)]
            print(f'F(4×4, 3×3) {name}: normalized error at C = 16, 64, 256, 512: ' + ', '.join(f'{e:.2e}' for e in errs))
        at, g, bt = transforms([Fr(0), Fr(1), Fr(-1)], 2)
        errs = [tile_error(at, g, bt, C) for C in (16, 64, 256, 512)]
        print('F(2×2, 3×3) 0 ±1 ∞: normalized error at C = 16, 64, 256, 512: ' + ', '.join(f'{e:.2e}' for e in errs))
