/**
 * safetensors reader and F32 writer (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian u64 header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the
 * little-endian data. Pure: bytes in, bytes out. Every malformed input raises InputError.
 */
import { InputError } from "../core/errors.ts";

/** The dtypes gradlab reads; it writes F32 only. */
export type DType = "F32" | "F64" | "I32" | "I64" | "U8";

/** One decoded tensor: its dtype, shape, and row-major values in a freshly allocated array. */
export interface StTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array; // [prod(shape)]
}

/** A tensor to write: shape plus row-major F32 values. */
export interface StInput {
  shape: number[];
  data: Float32Array; // [prod(shape)]
}

const ITEM_SIZE: Record<DType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };

/** The reference implementation's limit (MAX_HEADER_SIZE in safetensors' Rust crate). */
const MAX_HEADER = 100_000_000;

/**
 * Encodes F32 tensors as a safetensors file. Names are sorted and laid out in that order, the
 * JSON is compact (`__metadata__` first, omitted when absent) and padded with spaces to a
 * multiple of 8 bytes as the reference implementation does, so equal inputs give equal bytes.
 *
 * @example
 * const bytes = encodeSafetensors({ "dense1.bias": { shape: [2], data: new Float32Array([1, 2]) } });
 * decodeSafetensors(bytes, "w").tensors.get("dense1.bias")!.data; // Float32Array [1, 2]
 */
export function encodeSafetensors(
  tensors: Map<string, StInput> | Record<string, StInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  // Header JSON, written by hand so keys keep this order (a JS object would hoist names like
  // "0"); offsets run through the data section in name order.
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, t] of entries) {
    // Both are caller bugs, not bad input: gradlab itself builds what it writes.
    if (name === "__metadata__") throw new Error(`encodeSafetensors: "__metadata__" is reserved, not a tensor name`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`encodeSafetensors: ${name}: shape [${t.shape}] holds ${count} values, data has ${t.data.length}`);
    }
    const entry = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset += 4 * count;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // space padding
  let p = 8 + headerLength;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++, p += 4) view.setFloat32(p, t.data[i], true);
  }
  return out;
}

/**
 * Decodes and validates a safetensors file: header length, JSON shape, known dtypes, shapes,
 * offsets that match shape × itemsize and tile the data section exactly (no overlap, no hole),
 * string metadata. Values are copied into new, aligned typed arrays. `what` names the source
 * (usually the file path) in every error message.
 *
 * @example
 * const { tensors, metadata } = decodeSafetensors(readFileSync("weights.safetensors"), "weights.safetensors");
 * tensors.get("dense1.weight")!.shape; // [5, 784]
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  what: string,
): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) {
    throw new InputError(`${what}: truncated safetensors file: ${bytes.length} bytes, need at least 8 for the header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) {
    throw new InputError(`${what}: safetensors header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  }
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    throw new InputError(
      `${what}: truncated safetensors file: header length is ${headerLength} bytes, file has ${bytes.length - 8} after the length`,
    );
  }

  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${what}: safetensors header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(header)) throw new InputError(`${what}: safetensors header must be a JSON object`);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const specs: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(entry)) throw new InputError(`${what}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") {
          throw new InputError(`${what}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        }
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const at = `${what}: tensor "${name}"`;
    if (!isObject(entry)) throw new InputError(`${at}: expected an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== "string" || !Object.hasOwn(ITEM_SIZE, dtype)) {
      throw new InputError(
        `${at}: unsupported dtype ${JSON.stringify(dtype)}: expected one of ${Object.keys(ITEM_SIZE).join(", ")}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new InputError(`${at}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new InputError(
        `${at}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLength) {
      throw new InputError(`${at}: data_offsets [${begin}, ${end}] outside the ${dataLength}-byte data section`);
    }
    // BigInt so a huge shape cannot round to a product that happens to match.
    const itemSize = ITEM_SIZE[dtype as DType];
    const expected = (shape as number[]).reduce((a, d) => a * BigInt(d), BigInt(itemSize));
    if (expected !== BigInt(end - begin)) {
      throw new InputError(
        `${at}: shape [${shape}] × ${itemSize} bytes = ${expected} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    specs.push({ name, dtype: dtype as DType, shape: shape as number[], begin, end });
  }

  // The spec requires the tensors to tile the data section: sorted by offset, each begins
  // where the previous ended, and the last ends at the end of the file.
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of sorted) {
    if (s.begin < cursor) {
      throw new InputError(
        `${what}: tensor "${s.name}" overlaps the previous tensor (begins at ${s.begin}, previous ends at ${cursor})`,
      );
    }
    if (s.begin > cursor) {
      throw new InputError(
        `${what}: hole in the data section: bytes ${cursor}..${s.begin} belong to no tensor (before "${s.name}")`,
      );
    }
    cursor = s.end;
  }
  if (cursor !== dataLength) {
    throw new InputError(
      `${what}: trailing bytes: the data section has ${dataLength} bytes but the tensors cover ${cursor}`,
    );
  }

  const tensors = new Map<string, StTensor>();
  for (const s of specs) {
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: read(bytes, s.dtype, dataStart + s.begin, dataStart + s.end) });
  }
  return { tensors, metadata };
}

/**
 * Copies bytes [start, end) of `bytes`, little-endian, into a new array of `dtype`. The source
 * offset may be unaligned, so the values go through a DataView rather than a typed-array view.
 */
function read(bytes: Uint8Array, dtype: DType, start: number, end: number): StTensor["data"] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  const n = (end - start) / ITEM_SIZE[dtype];
  switch (dtype) {
    case "U8":
      return new Uint8Array(bytes.subarray(start, end)); // copies
    case "F32": {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat32(4 * i, true);
      return a;
    }
    case "F64": {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat64(8 * i, true);
      return a;
    }
    case "I32": {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt32(4 * i, true);
      return a;
    }
    case "I64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getBigInt64(8 * i, true);
      return a;
    }
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
