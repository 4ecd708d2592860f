/**
 * Every preset of the CLI (experiments/*.json), bundled at build time. A single config is one
 * preset; a suite (see src/experiment/suite.ts) expands into one preset per run, labelled
 * "depth / depth=3". The same expansion as the CLI's, so a preset means the same here and there.
 */
import type { Config } from "../experiment/config.ts";
import { parseConfig } from "../experiment/config.ts";
import { expandSuite, isSuite } from "../experiment/suite.ts";

export interface Preset {
  /** "seed", "depth/depth=3" */
  id: string;
  /** the preset file it comes from */
  group: string;
  label: string;
  description: string;
  config: Config;
}

const files = import.meta.glob("../../experiments/*.json", { eager: true, import: "default" }) as Record<string, unknown>;

/** The presets in file-name order; a file that fails validation is left out (and logged). */
export function loadPresets(): Preset[] {
  const out: Preset[] = [];
  for (const path of Object.keys(files).sort()) {
    const group = path.replace(/^.*\//, "").replace(/\.json$/, "");
    const raw = files[path];
    try {
      if (isSuite(raw)) {
        const suite = expandSuite(raw, `${group}.json`);
        for (const run of suite.runs) {
          out.push({ id: `${group}/${run.label}`, group, label: `${group} / ${run.label}`, description: suite.description, config: run.config });
        }
      } else {
        const config = parseConfig(raw, `${group}.json`);
        out.push({ id: group, group, label: group, description: config.description ?? "", config });
      }
    } catch (e) {
      console.warn(`gradlab: preset ${group} skipped: ${(e as Error).message}`);
    }
  }
  return out;
}
