/**
 * Scene 1's loss surface: a network with two weights, one sigmoid neuron ŷ = σ(w₁x₁ + w₂x₂),
 * on six fixed two-pixel "images" with labels 0/1, and its mean cross-entropy
 *   L(w) = −(1/N) Σ [y log ŷ + (1 − y) log(1 − ŷ)],  ∇L = (1/N) Σ (ŷ − y) x.
 * Two of the six are labelled against the rest, so no weights fit all six and L has a lowest
 * point at finite w (a bowl, not a slope that goes on forever). Pure, so Node tests it.
 */

/** The six examples: [x₁, x₂, y]. */
export const POINTS: readonly (readonly [number, number, number])[] = [
  [1, 0.6, 1], [0.7, 1, 1], [-0.4, 0.9, 1],
  [-1, -0.5, 0], [0.3, -1, 0], [0.6, 0.2, 0],
];

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** L(w₁, w₂). @example loss(0, 0) // ln 2 ≈ 0.693: every ŷ is 1/2 */
export function loss(w1: number, w2: number): number {
  let s = 0;
  for (const [x1, x2, y] of POINTS) {
    const z = w1 * x1 + w2 * x2;
    // log σ(z) = −log(1 + e^−z), written so neither side overflows
    const logP = -Math.log1p(Math.exp(-Math.abs(z))) - Math.max(0, -z);
    const logQ = -Math.log1p(Math.exp(-Math.abs(z))) - Math.max(0, z);
    s -= y * logP + (1 - y) * logQ;
  }
  return s / POINTS.length;
}

/** ∇L at (w₁, w₂), exactly: (1/N) Σ (σ(z) − y)·x. @example grad(0, 0) // [0.033…, 0.15] */
export function grad(w1: number, w2: number): [number, number] {
  let g1 = 0, g2 = 0;
  for (const [x1, x2, y] of POINTS) {
    const e = sigmoid(w1 * x1 + w2 * x2) - y;
    g1 += e * x1;
    g2 += e * x2;
  }
  return [g1 / POINTS.length, g2 / POINTS.length];
}

/** The weights after one step of gradient descent, w − η∇L. */
export function descend(w: readonly [number, number], eta: number): [number, number] {
  const [g1, g2] = grad(w[0], w[1]);
  return [w[0] - eta * g1, w[1] - eta * g2];
}

/** Where the scene's walk starts, the step size it takes, and the square of weights it shows. */
export const START: [number, number] = [-3.2, -2.6];
export const ETA = 2;
export const RANGE = 4;
