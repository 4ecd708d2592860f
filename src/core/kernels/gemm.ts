/**
 * Plain TypeScript GEMM, the reference kernels: row-major, contiguous, with offsets so callers
 * can address a slice (one time step of a sequence, one image of a batch) without a view object.
 *   gemmNT: C[M,N] (+)= A[M,K] · B[N,K]ᵀ   (dense forward: Z = X·Wᵀ)
 *   gemmTN: C[M,N] (+)= A[K,M]ᵀ · B[K,N]   (weight gradient: dW = dZᵀ·X)
 *   gemmNN: C[M,N] (+)= A[M,K] · B[K,N]    (input gradient: dX = dZ·W)
 * `acc` true adds into C (backward accumulates into gradients), false overwrites it.
 * Performance: each loop handles four rows/columns at once so one load of the shared operand
 * feeds four multiply-adds; the remainders fall back to one at a time. gemmNT goes further and
 * keeps a 3 × 4 tile of C in registers (7 loads per 12 multiply-adds; 4 × 4 spills on x64),
 * about 1.6× the 1 × 4 loop; every C[i, j] is still one sum over k in order, so results are unchanged.
 */
import type { FloatArray } from "../tensor.ts";

export function gemmNT(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  let i = 0;
  for (; i + 2 < M; i += 3) {
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K;
    const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      for (let k = 0; k < K; k++) {
        const w0 = B[b0 + k], w1 = B[b1 + k], w2 = B[b2 + k], w3 = B[b3 + k];
        let x = A[a0 + k];
        s00 += x * w0; s01 += x * w1; s02 += x * w2; s03 += x * w3;
        x = A[a1 + k];
        s10 += x * w0; s11 += x * w1; s12 += x * w2; s13 += x * w3;
        x = A[a2 + k];
        s20 += x * w0; s21 += x * w1; s22 += x * w2; s23 += x * w3;
      }
      if (acc) {
        C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
        C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
        C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      } else {
        C[c0 + j] = s00; C[c0 + j + 1] = s01; C[c0 + j + 2] = s02; C[c0 + j + 3] = s03;
        C[c1 + j] = s10; C[c1 + j + 1] = s11; C[c1 + j + 2] = s12; C[c1 + j + 3] = s13;
        C[c2 + j] = s20; C[c2 + j + 1] = s21; C[c2 + j + 2] = s22; C[c2 + j + 3] = s23;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = 0; k < K; k++) { const w = B[b0 + k]; s0 += A[a0 + k] * w; s1 += A[a1 + k] * w; s2 += A[a2 + k] * w; }
      if (acc) { C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; }
      else { C[c0 + j] = s0; C[c1 + j] = s1; C[c2 + j] = s2; }
    }
  }
  for (; i < M; i++) {
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
