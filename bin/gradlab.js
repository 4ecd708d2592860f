#!/usr/bin/env node
// The `gradlab` command: registers tsx's loader (esbuild strips the types as modules load; the
// compiled code runs at full V8 speed) and hands over to the TypeScript entry point.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
