/**
 * Scene 1 of the story: a gradient points uphill. The loss surface of a two-weight network
 * (surface.ts: no data, no worker), the gradient arrow at the current weights, and steps
 * downhill one press at a time. Small on purpose: it is the first figure a visitor sees, drawn
 * before anything else of the story loads.
 */
import { fill, fmt, h, viridis } from "../dom.ts";
import { SCENE_TITLES, type Scene } from "./scene-kit.ts";
import { descend, ETA, grad, loss, RANGE, START } from "./surface.ts";

const button = (text: string, onclick: () => void, attrs: Record<string, string | boolean> = {}) => h("button", { type: "button", onclick, ...attrs }, text);
const p = (text: string) => h("p", { text });

let surfaceImage: ImageData | null = null;

/** Scene 1. */
export const scene1: Scene = {
  title: SCENE_TITLES[0],
  mount(ctx) {
    const N = 240;
    const canvas = h("canvas", { width: N, height: N, class: "surface", role: "img", "aria-label": "" });
    let path: [number, number][] = [START];
    const toW = (px: number) => -RANGE + (2 * RANGE * px) / N;
    const toPx = (w: number) => ((w + RANGE) / (2 * RANGE)) * N;
    const draw = () => {
      const c = canvas.getContext("2d");
      if (!c) return;
      if (!surfaceImage) {
        surfaceImage = c.createImageData(N, N);
        // The surface on a coarser grid (every 2 × 2 pixels share a value): it is smooth, and
        // this is the first figure a visitor waits for.
        const vals = new Float64Array(N * N);
        let lo = Infinity, hi = -Infinity;
        for (let i = 0; i < N; i += 2) for (let j = 0; j < N; j += 2) {
          const v = Math.log(loss(toW(j + 1), toW(N - i - 1)));
          vals[i * N + j] = vals[i * N + j + 1] = vals[(i + 1) * N + j] = vals[(i + 1) * N + j + 1] = v;
          lo = Math.min(lo, v); hi = Math.max(hi, v);
        }
        for (let k = 0; k < N * N; k++) {
          const col = viridis((vals[k] - lo) / (hi - lo));
          surfaceImage.data.set([parseInt(col.slice(1, 3), 16), parseInt(col.slice(3, 5), 16), parseInt(col.slice(5, 7), 16), 255], 4 * k);
        }
      }
      c.putImageData(surfaceImage, 0, 0);
      // The path taken so far.
      c.strokeStyle = "#ffffff"; c.lineWidth = 2;
      c.beginPath();
      path.forEach(([a, b], k) => (k ? c.lineTo(toPx(a), N - toPx(b)) : c.moveTo(toPx(a), N - toPx(b))));
      c.stroke();
      const [a, b] = path[path.length - 1];
      // The gradient at the current point: an arrow uphill, 40 px long.
      const [g1, g2] = grad(a, b);
      const n = Math.hypot(g1, g2) || 1;
      const x0 = toPx(a), y0 = N - toPx(b), x1 = x0 + (40 * g1) / n, y1 = y0 - (40 * g2) / n;
      c.strokeStyle = "#D55E00"; c.fillStyle = "#D55E00"; c.lineWidth = 3;
      c.beginPath(); c.moveTo(x0, y0); c.lineTo(x1, y1); c.stroke();
      const ang = Math.atan2(y1 - y0, x1 - x0);
      c.beginPath(); c.moveTo(x1, y1); c.lineTo(x1 - 10 * Math.cos(ang - 0.45), y1 - 10 * Math.sin(ang - 0.45)); c.lineTo(x1 - 10 * Math.cos(ang + 0.45), y1 - 10 * Math.sin(ang + 0.45)); c.fill();
      c.fillStyle = "#ffffff";
      c.beginPath(); c.arc(x0, y0, 5, 0, 2 * Math.PI); c.fill();
      const losses = path.map(([u, v]) => loss(u, v));
      const said = `Step ${path.length - 1}: weights (${fmt(a, 2)}, ${fmt(b, 2)}), loss ${fmt(losses[losses.length - 1])}, gradient (${fmt(g1, 2)}, ${fmt(g2, 2)}), ${path.length > 1 ? `the loss went from ${fmt(losses[0])} to ${fmt(losses[losses.length - 1])} in ${path.length - 1} steps` : "no step taken yet"}.`;
      canvas.setAttribute("aria-label", `The loss over two weights (dark low, yellow high), the path taken (white) and the gradient at the current point (orange arrow, pointing uphill). ${said}`);
      ctx.caption.textContent = said;
      ctx.publish({ path: path.map(([u, v]) => ({ w: [u, v], loss: loss(u, v), grad: grad(u, v) })) }, true);
    };
    canvas.addEventListener("click", (e) => {
      const r = canvas.getBoundingClientRect();
      path = [[toW(((e.clientX - r.left) / r.width) * N), toW(N - ((e.clientY - r.top) / r.height) * N)]];
      draw();
    });
    fill(ctx.text,
      p("Training a network means finding weights that make its loss small. The loss is a landscape over the weights; this network has only two weights, so we can see all of it: dark is low, yellow is high."),
      p("The gradient ∇L = (∂L/∂w₁, ∂L/∂w₂) is the vector of the loss's slopes along each weight. It points the way the loss rises fastest (the orange arrow). Training steps the other way, downhill: w ← w − η∇L."));
    fill(ctx.act,
      button("Step downhill", () => { path.push(descend(path[path.length - 1], ETA)); draw(); ctx.announce(ctx.caption.textContent ?? ""); }, { class: "primary", "data-key": "surface-step" }),
      button("Start again", () => { path = [START]; draw(); }, { "data-key": "surface-reset" }),
      h("span", { class: "muted", text: ` η = ${ETA}; click the map to start elsewhere.` }));
    fill(ctx.figure, canvas);
    draw();
    return () => {};
  },
};

