/**
 * A drawn digit, prepared the way MNIST's digits were: strokes (polylines on a square canvas)
 * are rendered as a pen of a fixed width, the ink's bounding box is scaled so its longer side is
 * 20 pixels (aspect ratio kept, area-averaged, so edges come out grey as MNIST's anti-aliased
 * edges do), and the 20-pixel box is placed in a 28×28 image so that the ink's centre of mass
 * sits at the image's centre (LeCun, Cortes & Burges, "The MNIST database": "normalized to fit
 * in a 20x20 pixel box while preserving their aspect ratio … centered in a 28x28 image by
 * computing the center of mass of the pixels"). Pure: no DOM, so Node tests it.
 */

/** A point on the canvas, in canvas units (0..size on both axes, y down). */
export interface Point { x: number; y: number }
/** One stroke: the points the pen passed, in order (a single point is a dot). */
export type Stroke = Point[];

/** The side of the canvas strokes are drawn on, in canvas units. */
export const CANVAS_UNITS = 280;
/** The pen's radius in canvas units (a 28-unit wide pen: MNIST strokes are about 2–3 of 28 pixels wide). */
export const PEN_RADIUS = 13;
/** Resolution the strokes are rendered at before the box is cut (canvas units per cell: 2). */
const GRID = 140;
const BOX = 20;
const SIDE = 28;

/** The reason a drawing cannot be read, said to the person drawing. */
export class DrawingError extends Error {}

/** Distance from p to the segment a–b. */
function segmentDistance(px: number, py: number, a: Point, b: Point): number {
  const dx = b.x - a.x, dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / len2));
  return Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
}

/**
 * The strokes as ink on a GRID × GRID raster ([GRID, GRID], 0..1): 1 inside the pen, a one-cell
 * soft edge. Points outside the canvas are kept (the ink is clipped by the raster).
 */
export function renderStrokes(strokes: readonly Stroke[], size = CANVAS_UNITS, radius = PEN_RADIUS): Float32Array {
  const ink = new Float32Array(GRID * GRID); // [GRID, GRID]
  const cell = size / GRID;
  for (const stroke of strokes) {
    for (let k = 0; k < stroke.length; k++) {
      const a = stroke[k], b = stroke[Math.min(k + 1, stroke.length - 1)];
      // Only the cells near this segment.
      const i0 = Math.max(0, Math.floor((Math.min(a.y, b.y) - radius) / cell) - 1), i1 = Math.min(GRID - 1, Math.ceil((Math.max(a.y, b.y) + radius) / cell) + 1);
      const j0 = Math.max(0, Math.floor((Math.min(a.x, b.x) - radius) / cell) - 1), j1 = Math.min(GRID - 1, Math.ceil((Math.max(a.x, b.x) + radius) / cell) + 1);
      for (let i = i0; i <= i1; i++) {
        for (let j = j0; j <= j1; j++) {
          const d = segmentDistance((j + 0.5) * cell, (i + 0.5) * cell, a, b);
          const v = Math.max(0, Math.min(1, (radius - d) / cell + 0.5));
          if (v > ink[i * GRID + j]) ink[i * GRID + j] = v;
        }
      }
    }
  }
  return ink;
}

/**
 * 784 pixels (0..1, row-major [28, 28]) of a digit drawn as `strokes` on a `size`-unit canvas,
 * centred as MNIST's are. Throws DrawingError with a sentence for the reader when there is
 * nothing to read (no strokes, or strokes that leave no ink on the canvas) or a point is not a
 * finite number.
 * @example strokesToPixels([[{ x: 140, y: 40 }, { x: 140, y: 240 }]]) // a "1": a 20-pixel bar in the middle columns
 */
export function strokesToPixels(strokes: readonly Stroke[], size = CANVAS_UNITS): Float32Array {
  for (const s of strokes) for (const p of s) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new DrawingError("a stroke has a point that is not a number; clear the canvas and draw again");
  }
  if (!strokes.some((s) => s.length > 0)) throw new DrawingError("the canvas is empty: draw a digit first");
  const ink = renderStrokes(strokes, size);
  // The ink's bounding box, in raster cells.
  let top = GRID, bottom = -1, left = GRID, right = -1;
  for (let i = 0; i < GRID; i++) for (let j = 0; j < GRID; j++) {
    if (ink[i * GRID + j] > 0) { top = Math.min(top, i); bottom = Math.max(bottom, i); left = Math.min(left, j); right = Math.max(right, j); }
  }
  if (bottom < 0) throw new DrawingError("the strokes are outside the canvas: draw the digit inside the box");
  const h = bottom - top + 1, w = right - left + 1;
  // Scale so the longer side is BOX pixels; each output pixel averages the raster area it covers.
  const scale = BOX / Math.max(h, w);
  const bh = Math.max(1, Math.round(h * scale)), bw = Math.max(1, Math.round(w * scale));
  const box = new Float32Array(bh * bw); // [bh, bw]
  const SUB = 4; // sub-samples per output pixel and axis
  for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) {
    let sum = 0;
    for (let a = 0; a < SUB; a++) for (let b = 0; b < SUB; b++) {
      const si = Math.min(bottom, top + Math.floor(((i + (a + 0.5) / SUB) * h) / bh));
      const sj = Math.min(right, left + Math.floor(((j + (b + 0.5) / SUB) * w) / bw));
      sum += ink[si * GRID + sj];
    }
    box[i * bw + j] = sum / (SUB * SUB);
  }
  // Centre of mass of the box, then the offset that puts it at the image's centre (14, 14),
  // kept inside the image.
  let mass = 0, ci = 0, cj = 0;
  for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) { const v = box[i * bw + j]; mass += v; ci += v * (i + 0.5); cj += v * (j + 0.5); }
  const oi = Math.max(0, Math.min(SIDE - bh, Math.round(SIDE / 2 - ci / mass)));
  const oj = Math.max(0, Math.min(SIDE - bw, Math.round(SIDE / 2 - cj / mass)));
  const out = new Float32Array(SIDE * SIDE); // [28, 28]
  for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) out[(oi + i) * SIDE + oj + j] = box[i * bw + j];
  return out;
}

/** Centre of mass (row, column) of a [28, 28] image, in pixel units (pixel centres at k + 0.5). */
export function centreOfMass(px: ArrayLike<number>): { row: number; col: number } {
  let m = 0, r = 0, c = 0;
  for (let i = 0; i < SIDE; i++) for (let j = 0; j < SIDE; j++) { const v = px[i * SIDE + j]; m += v; r += v * (i + 0.5); c += v * (j + 0.5); }
  return { row: r / m, col: c / m };
}

/**
 * A "7" as a person draws it with a mouse: a bar across the top and a stroke down to the left
 * (two strokes, on a 280-unit canvas). The end-to-end test draws it with mouse events.
 */
export const SEVEN: Stroke[] = [
  [{ x: 70, y: 60 }, { x: 110, y: 58 }, { x: 150, y: 56 }, { x: 190, y: 56 }, { x: 215, y: 58 }],
  [{ x: 215, y: 58 }, { x: 200, y: 100 }, { x: 180, y: 145 }, { x: 160, y: 190 }, { x: 145, y: 235 }],
];
