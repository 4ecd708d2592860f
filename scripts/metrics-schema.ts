/**
 * Writes docs/metrics.schema.json from the run schema (src/experiment/run-schema.ts):
 * `npm run schema`. test/report/metrics-schema.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runSchemaDocument } from "../src/experiment/run-schema-doc.ts";

const target = fileURLToPath(new URL("../docs/metrics.schema.json", import.meta.url));
writeFileSync(target, runSchemaDocument());
console.log(`wrote ${target}`);
