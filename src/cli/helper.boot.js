// Entry of the kernels' helper thread: registers tsx's loader in this thread (loaders are per
// thread), then loads the TypeScript helper (as sweep-worker.boot.js does for sweeps).
import { register } from "tsx/esm/api";

register();
await import("./helper.ts");
