// Entry of a sweep worker thread: registers tsx's loader in this thread (loaders are
// per thread), then loads the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./sweep-worker.ts");
