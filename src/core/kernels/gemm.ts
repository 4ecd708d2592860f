/**
 * Plain TypeScript GEMM, the reference kernels: row-major, contiguous, with offsets so callers
 * can address a slice (one time step of a sequence, one image of a batch) without a view object.
 *   gemmNT: C[M,N] (+)= A[M,K] · B[N,K]ᵀ   (dense forward: Z = X·Wᵀ)
 *   gemmTN: C[M,N] (+)= A[K,M]ᵀ · B[K,N]   (weight gradient: dW = dZᵀ·X)
 *   gemmNN: C[M,N] (+)= A[M,K] · B[K,N]    (input gradient: dX = dZ·W)
 * `acc` true adds into C (backward accumulates into gradients), false overwrites it.
 * Performance: each loop handles four rows/columns at once so one load of the shared operand
 * feeds four multiply-adds; the remainders fall back to one at a time.
 */
import type { FloatArray } from "../tensor.ts";

export function gemmNT(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  for (let i = 0; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a + k];
        s0 += x * B[b0 + k];
        s1 += x * B[b1 + k];
        s2 += x * B[b2 + k];
        s3 += x * B[b3 + k];
      }
      if (acc) { C[c + j] += s0; C[c + j + 1] += s1; C[c + j + 2] += s2; C[c + j + 3] += s3; }
      else { C[c + j] = s0; C[c + j + 1] = s1; C[c + j + 2] = s2; C[c + j + 3] = s3; }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[b0 + k];
      if (acc) C[c + j] += s;
      else C[c + j] = s;
    }
  }
}

export function gemmTN(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  for (let k = 0; k < K; k++) {
    const a = aOff + k * M;
    const b = bOff + k * N;
    let i = 0;
    for (; i + 3 < M; i += 4) {
      const a0 = A[a + i], a1 = A[a + i + 1], a2 = A[a + i + 2], a3 = A[a + i + 3];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue; // relu zeros: nothing to add
      const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
      for (let j = 0; j < N; j++) {
        const x = B[b + j];
        C[c0 + j] += a0 * x;
        C[c1 + j] += a1 * x;
        C[c2 + j] += a2 * x;
        C[c3 + j] += a3 * x;
      }
    }
    for (; i < M; i++) {
      const a0 = A[a + i];
      if (a0 === 0) continue;
      const c0 = cOff + i * N;
      for (let j = 0; j < N; j++) C[c0 + j] += a0 * B[b + j];
    }
  }
}

export function gemmNN(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  for (let i = 0; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * N;
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const a0 = A[a + k], a1 = A[a + k + 1], a2 = A[a + k + 2], a3 = A[a + k + 3];
      const b0 = bOff + k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      for (let j = 0; j < N; j++) {
        C[c + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
      }
    }
    for (; k < K; k++) {
      const a0 = A[a + k];
      const b0 = bOff + k * N;
      for (let j = 0; j < N; j++) C[c + j] += a0 * B[b0 + j];
    }
  }
}
