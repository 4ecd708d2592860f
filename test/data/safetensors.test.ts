/**
 * safetensors: a hand-built file in the layout PyTorch's `safetensors.torch.save_file` writes
 * is decoded to the right values; encode is byte-exact and round-trips; every malformed file is
 * refused with an InputError naming the problem. Byte layouts follow the format description at
 * https://github.com/huggingface/safetensors#format; float bit patterns are IEEE 754 by hand.
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { InputError } from "../../src/core/errors.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/data/safetensors.ts";

/** A safetensors file from a header (JSON text or object) and raw data bytes, unpadded. */
function st(header: string | object, data: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function refuses(bytes: Uint8Array, message: RegExp): void {
  expect(() => decodeSafetensors(bytes, "w.st")).toThrow(InputError);
  expect(() => decodeSafetensors(bytes, "w.st")).toThrow(message);
}

const f32 = (name: string, shape: number[], begin: number, end: number) => ({
  [name]: { dtype: "F32", shape, data_offsets: [begin, end] },
});

describe("decodeSafetensors", () => {
  it("decodes a hand-built PyTorch-layout file of every supported dtype, at unaligned offsets", () => {
    // What `save_file({"bias": ..., "w": ..., ...}, metadata={"format": "pt"})` lays out:
    // little-endian values, data_offsets relative to the start of the data section.
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"w":{"dtype":"F64","shape":[1,1],"data_offsets":[8,16]},' +
      '"steps":{"dtype":"I64","shape":[],"data_offsets":[16,24]},' +
      '"idx":{"dtype":"I32","shape":[2],"data_offsets":[24,32]},' +
      '"mask":{"dtype":"U8","shape":[3],"data_offsets":[32,35]},' +
      '"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[35,35]}}';
    expect(header.length % 8).not.toBe(0); // so every tensor sits at an unaligned file offset
    const data = [
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0, // F32 1.0, -2.5
      0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, // F64 0.1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // I64 -1
      0x02, 0x01, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, // I32 258, -2
      0x00, 0x01, 0xff, //                               U8 0, 1, 255
    ];
    const { tensors, metadata } = decodeSafetensors(st(header, data), "hand.safetensors");
    expect(metadata).toEqual({ format: "pt" });
    expect([...tensors.keys()].sort()).toEqual(["bias", "empty", "idx", "mask", "steps", "w"]);

    const bias = tensors.get("bias")!;
    expect(bias.dtype).toBe("F32");
    expect(bias.shape).toEqual([2]);
    expect(bias.data).toBeInstanceOf(Float32Array);
    expect([...bias.data]).toEqual([1, -2.5]);
    expect(tensors.get("w")!.data).toEqual(new Float64Array([0.1]));
    expect(tensors.get("steps")!.shape).toEqual([]);
    expect(tensors.get("steps")!.data).toEqual(new BigInt64Array([-1n]));
    expect(tensors.get("idx")!.data).toEqual(new Int32Array([258, -2]));
    expect(tensors.get("mask")!.data).toEqual(new Uint8Array([0, 1, 255]));
    expect(tensors.get("empty")!.data).toEqual(new Float32Array(0));
  });

  it("copies data out of the input buffer", () => {
    const bytes = st({ ...f32("a", [1], 0, 4), m: { dtype: "U8", shape: [2], data_offsets: [4, 6] } }, [0, 0, 0x80, 0x3f, 7, 9]);
    const { tensors } = decodeSafetensors(bytes, "w");
    bytes.fill(0, 8);
    for (const t of tensors.values()) expect(t.data.buffer).not.toBe(bytes.buffer);
    expect([...tensors.get("a")!.data]).toEqual([1]);
    expect([...tensors.get("m")!.data]).toEqual([7, 9]);
  });

  it("returns empty metadata when there is none", () => {
    expect(decodeSafetensors(st("{}"), "w").metadata).toEqual({});
  });

  it("refuses files too short for the header length, or for the header", () => {
    refuses(new Uint8Array(5), /truncated safetensors file: 5 bytes, need at least 8/);
    const full = st(f32("a", [1], 0, 4), [0, 0, 0, 0]);
    refuses(full.subarray(0, 20), /truncated safetensors file: header length is \d+ bytes, file has 12/);
  });

  it("refuses an absurd header length before reading it", () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 0xffff_ffff_ffffn, true);
    refuses(bytes, /header length 281474976710655 exceeds the 100000000-byte limit/);
  });

  it("refuses a header that is not UTF-8 JSON, or not an object", () => {
    refuses(st('{"a":'), /header is not valid UTF-8 JSON/);
    const bad = st('{"a":1}');
    bad[9] = 0xff; // invalid UTF-8 byte inside the header
    refuses(bad, /header is not valid UTF-8 JSON/);
    refuses(st("[1,2]"), /header must be a JSON object/);
    refuses(st("null"), /header must be a JSON object/);
  });

  it("refuses bad metadata", () => {
    refuses(st({ __metadata__: { epochs: 5 } }), /__metadata__\.epochs must be a string, got 5/);
    refuses(st({ __metadata__: ["x"] }), /__metadata__ must be an object of strings/);
  });

  it("refuses bad tensor entries, naming the tensor", () => {
    refuses(st({ a: 3 }), /tensor "a": expected an object/);
    refuses(st({ a: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, [0, 0]), /tensor "a": unsupported dtype "F16"/);
    refuses(st({ a: { dtype: "toString", shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /unsupported dtype "toString"/);
    refuses(st(f32("a", [-1], 0, 4), [0, 0, 0, 0]), /tensor "a": shape must be an array of non-negative integers, got \[-1\]/);
    refuses(st(f32("a", [1.5], 0, 4), [0, 0, 0, 0]), /shape must be an array of non-negative integers/);
    refuses(st({ a: { dtype: "F32", shape: 4, data_offsets: [0, 4] } }, [0, 0, 0, 0]), /shape must be an array/);
    refuses(st({ a: { dtype: "F32", shape: [1], data_offsets: [0] } }, [0, 0, 0, 0]), /data_offsets must be \[begin, end\]/);
    refuses(st({ a: { dtype: "F32", shape: [1], data_offsets: [0, "4"] } }, [0, 0, 0, 0]), /data_offsets must be/);
  });

  it("refuses offsets outside the data section or disagreeing with the shape", () => {
    refuses(st(f32("a", [1], 4, 0), [0, 0, 0, 0]), /tensor "a": data_offsets \[4, 0\] outside the 4-byte data section/);
    refuses(st(f32("a", [2], 0, 8), [0, 0, 0, 0]), /data_offsets \[0, 8\] outside the 4-byte data section/);
    refuses(st(f32("a", [3], 0, 8), new Uint8Array(8)), /tensor "a": shape \[3\] × 4 bytes = 12 bytes, but data_offsets \[0, 8\] span 8/);
  });

  it("computes shape × itemsize exactly: a zero dim beside huge ones is an empty tensor", () => {
    // In doubles this product overflows to Infinity and Infinity × 0 is NaN.
    const shape = [...Array<number>(21).fill(Number.MAX_SAFE_INTEGER), 0];
    const { tensors } = decodeSafetensors(st({ z: { dtype: "U8", shape, data_offsets: [0, 0] } }), "w");
    expect(tensors.get("z")!.data.length).toBe(0);
    refuses(st({ z: { dtype: "U8", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } }), /= 1208925819614629174706176 bytes/);
  });

  it("refuses overlapping tensors, holes and trailing bytes", () => {
    refuses(st({ ...f32("a", [2], 0, 8), ...f32("b", [1], 4, 8) }, new Uint8Array(8)), /tensor "b" overlaps the previous tensor/);
    refuses(st({ ...f32("a", [1], 0, 4), ...f32("b", [1], 8, 12) }, new Uint8Array(12)), /hole in the data section: bytes 4\.\.8 belong to no tensor/);
    refuses(st(f32("a", [1], 4, 8), new Uint8Array(8)), /hole in the data section: bytes 0\.\.4/);
    refuses(st(f32("a", [1], 0, 4), new Uint8Array(6)), /trailing bytes: the data section has 6 bytes but the tensors cover 4/);
  });

  it("throws only InputError for any mutation or truncation of a valid file", () => {
    const valid = encodeSafetensors({ a: { shape: [2, 3], data: new Float32Array(6).fill(0.5) }, b: { shape: [1], data: new Float32Array([2]) } }, { k: "v" });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(valid.length),
        (edits, cut) => {
          const bytes = valid.slice(0, Math.max(cut, 1));
          for (const [i, b] of edits) if (i < bytes.length) bytes[i] = b;
          try {
            decodeSafetensors(bytes, "fuzz");
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        },
      ),
      { seed: 1, numRuns: 2000 },
    );
  });
});

describe("encodeSafetensors", () => {
  it("writes the exact bytes the reference implementation does: sorted names, space-padded header", () => {
    const bytes = encodeSafetensors(new Map([["b", { shape: [1], data: new Float32Array([-2.5]) }], ["a", { shape: [1], data: new Float32Array([1]) }]]));
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    expect(padded.length).toBeGreaterThan(json.length); // this case really exercises padding
    const expected = st(padded, [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
    expect([...bytes]).toEqual([...expected]);
  });

  it("puts __metadata__ first and is deterministic across Map and Record inputs", () => {
    const w = { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
    const bias = { shape: [2], data: new Float32Array([5, 6]) };
    const fromMap = encodeSafetensors(new Map([["dense1.weight", w], ["dense1.bias", bias]]), { format: "pt" });
    const fromRecord = encodeSafetensors({ "dense1.bias": bias, "dense1.weight": w }, { format: "pt" });
    expect([...fromMap]).toEqual([...fromRecord]);
    const n = Number(new DataView(fromMap.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(fromMap.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},' +
        '"dense1.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"dense1.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}',
    );
  });

  it("round-trips values exactly, including non-finite and subnormal floats", () => {
    const values = new Float32Array([0, -0, 1e-45, -3.4028234663852886e38, Infinity, -Infinity, Math.PI, NaN]);
    const { tensors, metadata } = decodeSafetensors(
      encodeSafetensors({ x: { shape: [2, 4], data: values }, s: { shape: [], data: new Float32Array([7]) } }, { step: "12" }),
      "rt",
    );
    expect(metadata).toEqual({ step: "12" });
    expect(tensors.get("x")!.shape).toEqual([2, 4]);
    expect(tensors.get("x")!.data).toEqual(values);
    expect(Object.is(tensors.get("x")!.data[1], -0)).toBe(true);
    expect(tensors.get("s")!.data).toEqual(new Float32Array([7]));
  });

  it("rejects data that disagrees with its shape", () => {
    expect(() => encodeSafetensors({ a: { shape: [3], data: new Float32Array(2) } })).toThrow(/a: shape \[3\] holds 3 values, data has 2/);
  });
});
