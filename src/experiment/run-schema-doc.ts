/**
 * docs/metrics.schema.json: the run schema (run-schema.ts) as JSON Schema (draft 2020-12), for
 * other tools that write or read a run folder. The root validates one line of metrics.jsonl;
 * `$defs.summary` is summary.json, `$defs.config` config.json and `$defs.probe` probe.json (a
 * folder recorded by the PyTorch probe has it instead of config.json). `schemaVersion` names the
 * version of the format. Written by `npm run schema` (scripts/metrics-schema.ts); a test fails
 * when the committed file differs from what this returns.
 */
import { z } from "zod";
import { configSchema } from "./config.ts";
import { probeSchema, RUN_SCHEMA_VERSION, stepRecordSchema, summarySchema } from "./run-schema.ts";

type JsonSchema = Record<string, unknown> & { $defs?: Record<string, unknown> };

/** One zod schema as JSON Schema of its input (defaults make a field optional), without `$schema`. */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" }) as JsonSchema;
  return rest;
}

/**
 * The text of docs/metrics.schema.json.
 * @example JSON.parse(runSchemaDocument()).schemaVersion // 1
 */
export function runSchemaDocument(): string {
  const { $defs: recordDefs = {}, ...record } = jsonSchemaOf(stepRecordSchema);
  const { $defs: summaryDefs = {}, ...summary } = jsonSchemaOf(summarySchema);
  const { $defs: configDefs = {}, ...config } = jsonSchemaOf(configSchema);
  const { $defs: probeDefs = {}, ...probe } = jsonSchemaOf(probeSchema);
  // Every part's references point at the root's $defs ("#/$defs/…"), so their $defs are merged there.
  const defs: Record<string, unknown> = {};
  for (const part of [recordDefs, summaryDefs, configDefs, probeDefs]) {
    for (const [k, v] of Object.entries(part)) {
      if (k in defs) throw new Error(`run schema: two parts define $defs.${k}`);
      defs[k] = v;
    }
  }
  const doc = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "gradlab run folder: one line of metrics.jsonl",
    description: "The root validates one line of a run folder's metrics.jsonl (one JSON object per line, steps increasing, null where a value was NaN or ±Infinity or was not measured). $defs.summary validates summary.json, $defs.config config.json, and $defs.probe the probe.json a folder recorded outside gradlab's engine holds instead of config.json. Unknown keys are ignored by gradlab's readers. See docs/metrics-schema.md.",
    schemaVersion: RUN_SCHEMA_VERSION,
    ...record,
    $defs: { ...defs, summary, config, probe },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
