/**
 * The report page of a replication: the citation, the table (quantity | paper | gradlab |
 * tolerance | holds, with each row's kind and reason), the notes, and the paper's figures
 * re-drawn from the runs as inline SVG (src/report/render.ts),
 * with links to every run's own report.
 */
import { assertSafeSvg, esc } from "../report/html.ts";
import { renderSvg } from "../report/render.ts";
import type { Replication } from "./replication.ts";
import type { RunView, Study } from "./study.ts";

/**
 * The HTML page of a replication; self-contained (no script).
 * @example writeFileSync("runs/replicate/he2015/report.html", replicationPage(he2015, replication, runs))
 */
export function replicationPage(study: Study, rep: Replication, runs: ReadonlyMap<string, RunView>): string {
  const held = rep.rows.filter((r) => r.holds).length;
  const rows = rep.rows.map((r) => `<tr class="${r.holds ? "holds" : "fails"}"><td>${esc(r.quantity)}</td><td>${esc(r.paper)}${r.verified ? "" : ' <span class="unverified" title="not checked against the paper\'s text; see the notes">(unverified)</span>'}</td><td>${esc(r.gradlab)}</td><td>${esc(r.tolerance)}</td><td>${r.holds ? "yes" : "no"} <small>(${esc(r.kind)})</small><br><small>${esc(r.reason)}</small></td></tr>`).join("\n");
  const figures = study.figures(runs).map((f, i) => `<figure id="${esc(f.id)}">${assertSafeSvg(renderSvg(f.option, { width: f.width, height: f.height, idPrefix: `rep${i}` }))}<figcaption>${esc(f.caption)}</figcaption></figure>`).join("\n");
  const links = [...runs.keys()].map((label) => `<li><a href="${esc(encodeURIComponent(label))}/report.html">${esc(label)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradlab replicate · ${esc(study.name)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ccc; padding: .35em .5em; vertical-align: top; text-align: left; }
tr.holds td:last-child { background: #e8f5e9; } tr.fails td:last-child { background: #fdecea; }
.unverified { color: #a15c00; } figure { margin: 1.5em 0; } figcaption { color: #555; font-size: 90%; }
</style></head><body>
<h1>${esc(study.name)}: ${held} of ${rep.rows.length} rows hold</h1>
<p>${esc(rep.citation)}</p>
<p>Scale: <b>${esc(rep.scale)}</b>. ${esc(study.summary)}.</p>
<table><thead><tr><th>quantity</th><th>paper</th><th>gradlab</th><th>tolerance</th><th>holds</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Notes</h2><p>${esc(rep.notes)}</p>
<h2>The paper's figures, re-drawn from these runs</h2>
${figures}
<h2>Runs</h2><ul>${links}</ul>
</body></html>
`;
}
