/**
 * IDX reader (LeCun's MNIST file format): a 4-byte magic `00 00 08 ndim`, ndim big-endian u32
 * dims, then prod(dims) unsigned bytes in row-major order. Only the unsigned-byte type (0x08)
 * that MNIST-style datasets use is accepted. Pure: takes bytes, returns a view; no file I/O.
 */
import { InputError } from "../core/errors.ts";

/** A parsed IDX array: its dims and its row-major bytes. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array; // [prod(dims)]
}

/** Largest element count accepted; MNIST's biggest file is 47 MB, so 1 GiB is only a fence. */
const MAX_ELEMENTS = 2 ** 30;

/**
 * Parses raw (already decompressed) IDX bytes of type 0x08. `data` is a view into `bytes`,
 * not a copy. `what` names the source (usually the file path) in every error message.
 *
 * @example
 * const idx = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]), "labels");
 * // idx.dims = [2], idx.data = Uint8Array [7, 9]
 */
export function parseIdx(bytes: Uint8Array, what: string): IdxArray {
  if (bytes.length < 4) {
    throw new InputError(`${what}: truncated IDX file: ${bytes.length} bytes, need at least 4 for the magic number`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hint = isGzip(bytes) ? " (the file is gzip-compressed; decompress it first)" : "";
    throw new InputError(
      `${what}: not an IDX file: expected magic bytes 00 00, got ${hex(bytes[0])} ${hex(bytes[1])}${hint}`,
    );
  }
  if (bytes[2] !== 0x08) {
    throw new InputError(`${what}: unsupported IDX data type 0x${hex(bytes[2])}: expected 0x08 (unsigned byte)`);
  }
  const ndim = bytes[3];
  if (ndim < 1 || ndim > 4) {
    throw new InputError(`${what}: unsupported IDX ndim ${ndim}: expected 1 to 4 dimensions`);
  }
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) {
    throw new InputError(
      `${what}: truncated IDX header: ${ndim} dims need ${headerLength} bytes, file has ${bytes.length}`,
    );
  }

  // Dims are big-endian u32. Their product is checked against the fence before anything else
  // looks at it, so a corrupt header cannot ask for an absurd size.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const zero = dims.indexOf(0);
  if (zero >= 0) throw new InputError(`${what}: IDX dim ${zero} is 0 (dims ${dims.join("×")}); every dim must be > 0`);
  const total = dims.reduce((a, b) => a * b, 1); // a double: exact below the fence, merely huge above it
  const says = `header says ${dims.join("×")} = ${total} bytes of data`;
  if (total > MAX_ELEMENTS) {
    throw new InputError(`${what}: absurd IDX size: ${says}, more than the ${MAX_ELEMENTS}-byte limit`);
  }
  const available = bytes.length - headerLength;
  if (available < total) throw new InputError(`${what}: truncated IDX file: ${says}, file has ${available}`);
  if (available > total) throw new InputError(`${what}: trailing bytes in IDX file: ${says}, file has ${available}`);
  return { dims, data: bytes.subarray(headerLength) };
}

/**
 * True when `bytes` starts with the gzip magic number 1f 8b.
 *
 * @example
 * isGzip(new Uint8Array([0x1f, 0x8b, 8, 0])); // true
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
