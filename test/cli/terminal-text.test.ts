/**
 * What the real `gradlab` command prints from user text: a config name or path holding ESC / NUL
 * shows as a visible `\u001b` (never an escape sequence reaching the terminal), in the run's
 * lines, in its tables and in one-line errors; configs with a duplicate key or invalid UTF-8 are
 * refused naming the path or byte offset; and the wording of a stray label, an empty --resume
 * and a lock held by a reused pid.
 */
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { printable, printableLine } from "../../src/cli/printable.ts";
import { columns, presetsTable } from "../../src/cli/table.ts";
import { LOCK_FILE } from "../../src/experiment/run-folder/lock.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

// Any control character but the newline and tab that printable() keeps: C0, DEL, C1.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const CLEAR = "\u001b[2J";

const small = (name: string, layers: unknown[] = [{ type: "dense", units: 10 }], data: unknown = { train: 64, test: 32 }) => ({
  name, data, model: { layers }, optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, batchSize: 32, seed: 1 }, record: { every: 1 },
});

function writeJson(dir: string, file: string, value: unknown): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe("printable", () => {
  it("makes C0 (but \\n, \\t), DEL and C1 visible; printableLine also \\n and \\t", () => {
    // the escapes are the JSON/JS spelling of each code point, by hand
    expect(printable("a\u001b[2Jb\u0000\u007f\u009b\u0085\r\nc\td")).toBe("a\\u001b[2Jb\\u0000\\u007f\\u009b\\u0085\\u000d\nc\td");
    expect(printableLine("x\ny\tz")).toBe("x\\u000ay\\u0009z");
    expect(printable("‖δ‖ é ▁▂▃ 日本")).toBe("‖δ‖ é ▁▂▃ 日本"); // printable text, non-ASCII included, is untouched
  });

  it("tables escape cells before aligning them", () => {
    const t = columns([["run", "acc"], [`a${CLEAR}`, "1%"], ["bb", "10%"]]);
    expect(t).not.toMatch(RAW_CONTROL);
    // "a\u001b[2J" is 10 visible characters: the column is 10 wide, so "bb" is padded by 8
    expect(t.split("\n")[2]).toBe(`bb${" ".repeat(8)}  10%`);
  });

  it("the presets table escapes names and descriptions and aligns on the escaped width", () => {
    const t = presetsTable([{ name: `x${CLEAR}`, description: "clears\u0007", runs: 1 }, { name: "ab", description: "d", runs: 3 }]);
    expect(t).toBe(`x\\u001b[2J  clears\\u0007\nab          d (3 runs)`);
  });
});

describe("gradlab on hostile text", () => {
  it("run: ESC in the config name is printed visibly in every line and table", () => {
    const dir = tempDir();
    const file = writeJson(dir, "esc.json", small(`evil${CLEAR}name`));
    const r = gradlab(["run", file, "--out", join(dir, "out"), "--no-png"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gradlab: evil\\u001b[2Jname — 1 layers");
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  }, 120_000);

  it("run: ESC in a layer name is refused in one line without the raw character", () => {
    const dir = tempDir();
    const file = writeJson(dir, "layer.json", small("ok", [{ type: "dense", units: 10, name: `fc${CLEAR}` }]));
    const r = gradlab(["run", file, "--out", join(dir, "out")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gradlab: .*model\.layers\[0\]\.name: .*\n$/);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
  });

  it("errors naming a path with control characters print it visibly, on one line", () => {
    const r = gradlab(["run", `/tmp/no${CLEAR}such\u0007folder/x.json`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no\\u001b[2Jsuch\\u0007folder/x.json: no such file");
    expect(r.stderr.split("\n")).toHaveLength(2); // one line and its newline
    expect(r.stderr).not.toMatch(RAW_CONTROL);
  });

  it("a duplicate key and invalid UTF-8 are refused, naming the JSON path and the byte offset", () => {
    const dir = tempDir();
    const dup = join(dir, "dup.json");
    writeFileSync(dup, `{"name": "d", "model": {"layers": [{"type": "dense", "units": 10}]}, "optimizer": {"type": "sgd", "lr": 0.1, "lr": 1e9}}`);
    let r = gradlab(["run", dup]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`gradlab: ${dup}: optimizer.lr: the key "lr" appears twice; each key may appear once in an object\n`);
    const bad = join(dir, "bad.json");
    // {"name": "é" with é's second byte replaced: byte 11 is 0xc3 followed by "x", not a continuation byte
    writeFileSync(bad, Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xc3, 0x78]), Buffer.from('"}')]));
    r = gradlab(["run", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`gradlab: ${bad}: invalid UTF-8 at byte 11 (0x78); expected UTF-8 text\n`);
  });

  it("--resume '' names the empty argument", () => {
    const r = gradlab(["run", "--resume", ""]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("gradlab: --resume: expected a run folder, got an empty string\n");
    expect(gradlab(["run", "seed", "--out="]).stderr).toBe("gradlab: --out: expected a path, got an empty string\n");
  });

  it("a lock held by a live pid (perhaps reused) says how to clear it", () => {
    const dir = tempDir();
    const file = writeJson(dir, "c.json", small("locked"));
    const out = join(dir, "out");
    expect(gradlab(["run", file, "--out", out, "--no-png"]).code).toBe(0);
    // our own pid is alive: to gradlab it looks like a run holding the folder
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-01T00:00:00Z" }));
    const r = gradlab(["run", file, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`(if no gradlab run is using it, delete ${join(out, LOCK_FILE)})`);
  });
});
