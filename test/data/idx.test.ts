/**
 * IDX reader: round-trips hand-built files and refuses every malformed header with an
 * InputError that names the problem. Expected bytes follow LeCun's format description
 * (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE").
 */
import { describe, it, expect } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { isGzip, parseIdx } from "../../src/data/idx.ts";

/** Builds IDX bytes: magic 00 00 08 ndim, big-endian u32 dims, then `data`. */
function idx(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function refuses(bytes: Uint8Array, message: RegExp): void {
  expect(() => parseIdx(bytes, "f.idx")).toThrow(InputError);
  expect(() => parseIdx(bytes, "f.idx")).toThrow(message);
}

describe("parseIdx", () => {
  it("reads a 1-D label file byte for byte", () => {
    // Hand-built: 00 00 08 01 | 00 00 00 03 | 07 00 09
    const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]);
    const a = parseIdx(bytes, "labels");
    expect(a.dims).toEqual([3]);
    expect([...a.data]).toEqual([7, 0, 9]);
  });

  it("reads big-endian dims of a 3-D image file and returns a view, not a copy", () => {
    const pixels = Array.from({ length: 2 * 3 * 300 }, (_, i) => i % 251);
    const bytes = idx([2, 3, 300], pixels); // 300 = 0x12c needs two bytes: catches little-endian reads
    const a = parseIdx(bytes, "images");
    expect(a.dims).toEqual([2, 3, 300]);
    expect([...a.data]).toEqual(pixels);
    expect(a.data.buffer).toBe(bytes.buffer);
    expect(a.data.byteOffset).toBe(16);
  });

  it("reads a 4-D file and works on a view with a non-zero byteOffset", () => {
    const inner = idx([1, 2, 2, 1], [1, 2, 3, 4]);
    const padded = new Uint8Array(inner.length + 5);
    padded.set(inner, 5);
    const a = parseIdx(padded.subarray(5), "x");
    expect(a.dims).toEqual([1, 2, 2, 1]);
    expect([...a.data]).toEqual([1, 2, 3, 4]);
  });

  it("refuses a file shorter than the magic number", () => {
    refuses(new Uint8Array([0, 0, 8]), /^f\.idx: truncated IDX file: 3 bytes/);
  });

  it("refuses wrong magic bytes, with a hint for gzip", () => {
    refuses(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), /not an IDX file: expected magic bytes 00 00, got 01 00$/);
    refuses(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), /got 1f 8b \(the file is gzip-compressed/);
  });

  it("refuses data types other than unsigned byte", () => {
    refuses(idx([1], [0, 0, 0, 0], 0x0d), /unsupported IDX data type 0x0d: expected 0x08/);
  });

  it("refuses ndim 0 and ndim above 4", () => {
    refuses(new Uint8Array([0, 0, 8, 0]), /unsupported IDX ndim 0/);
    refuses(idx([1, 1, 1, 1, 1], [7]), /unsupported IDX ndim 5/);
  });

  it("refuses a header cut short", () => {
    refuses(idx([60000, 28, 28], []).subarray(0, 10), /truncated IDX header: 3 dims need 16 bytes, file has 10/);
  });

  it("refuses a zero dim", () => {
    refuses(idx([3, 0, 2], []), /IDX dim 1 is 0/);
  });

  it("refuses truncated data, naming the header's size and the file's", () => {
    const bytes = idx([60000, 28, 28], new Uint8Array(1200));
    expect(() => parseIdx(bytes, "data/train-images-idx3-ubyte")).toThrow(
      "data/train-images-idx3-ubyte: truncated IDX file: header says 60000×28×28 = 47040000 bytes of data, file has 1200",
    );
  });

  it("refuses trailing bytes", () => {
    refuses(idx([2, 2], [1, 2, 3, 4, 5]), /trailing bytes in IDX file: header says 2×2 = 4 bytes of data, file has 5/);
  });

  it("refuses absurd dims before allocating anything", () => {
    refuses(idx([0xffffffff, 0xffffffff, 0xffffffff], []), /absurd IDX size: header says 4294967295×4294967295×4294967295/);
    refuses(idx([70000, 128, 128], [1, 2, 3]), /absurd IDX size/); // 1.15e9 bytes: just past the fence
  });
});

describe("isGzip", () => {
  it("checks the 1f 8b magic", () => {
    expect(isGzip(new Uint8Array([0x1f, 0x8b]))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f, 0x8c]))).toBe(false);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
    expect(isGzip(new Uint8Array([0, 0, 8, 1]))).toBe(false);
  });
});
