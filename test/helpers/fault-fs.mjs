// A fault-injecting file system for tests: preloaded into a child process running the real CLI
// (`node --import test/helpers/fault-fs.mjs bin/gradlab.js …`), it patches node:fs so that
// operations on matching paths fail with a chosen errno, as a full disk, a read-only folder or a
// process out of file descriptors would make them fail. Configured by GRADLAB_FAULT, rules
// separated by ";", each `CODE:MATCH[:after=N][:op=a,b]`:
//
//   ENOSPC:metrics.jsonl:after=4096   writes to files whose path contains "metrics.jsonl" fail
//                                     with ENOSPC once 4096 bytes were written to them, all
//                                     together (the write that crosses the limit is short, as on
//                                     a real full disk)
//   EROFS:/tmp/x/out                  creating, opening for writing, renaming into, mkdir and
//                                     access(W_OK) under that path fail (a read-only folder)
//   EMFILE:summary.json:op=open       opening it (for writing) fails
//   DELAY:train-images:ms=300         every read of it first sleeps 300 ms (sync reads block the
//                                     thread; async reads wait on a timer)
//
// Ops: open (opening for writing), openr (any open), write, rename (either path), mkdir, access
// (with W_OK), unlink (rm, unlink, rmdir), read, readdir (listing a folder whose path ends with MATCH). Without op, a rule with after= is a write rule
// and one without is open,mkdir,rename,access. Every errno error looks like Node's own: code,
// errno, syscall, path. Each fired fault is logged to GRADLAB_FAULT_LOG (a file) when set.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { constants as osConstants } from "node:os";

const rules = (process.env.GRADLAB_FAULT ?? "").split(";").filter(Boolean).map((text) => {
  const [code, match, ...opts] = text.split(":");
  const o = Object.fromEntries(opts.map((kv) => kv.split("=")));
  const after = o.after === undefined ? null : Number(o.after);
  const ops = new Set((o.op ?? (code === "DELAY" ? "read" : after !== null ? "write" : "open,mkdir,rename,access")).split(","));
  return { code, match, after, ms: Number(o.ms ?? 0), ops, written: 0 };
});

const original = {
  openSync: fs.openSync, open: fs.open, close: fs.close, closeSync: fs.closeSync, writeSync: fs.writeSync, readSync: fs.readSync, read: fs.read,
  renameSync: fs.renameSync, mkdirSync: fs.mkdirSync, accessSync: fs.accessSync,
  rmSync: fs.rmSync, unlinkSync: fs.unlinkSync, rmdirSync: fs.rmdirSync, readdirSync: fs.readdirSync,
};
/** fd → the path it was opened with */
const paths = new Map();

function log(rule, syscall, path) {
  if (process.env.GRADLAB_FAULT_LOG) fs.appendFileSync(process.env.GRADLAB_FAULT_LOG, `${rule.code} ${syscall} ${path}\n`);
}

function fail(rule, syscall, path) {
  log(rule, syscall, path);
  const errno = osConstants.errno[rule.code] ?? 5;
  return Object.assign(new Error(`${rule.code}: injected fault, ${syscall} '${path}'`), { errno: -errno, code: rule.code, syscall, path: String(path) });
}

const find = (op, path) => (path === undefined ? undefined : rules.find((r) => r.code !== "DELAY" && r.ops.has(op) && String(path).includes(r.match)));

function forWriting(flags) {
  if (flags === undefined) return false;
  if (typeof flags === "number") return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT)) !== 0;
  return /[wa+]/.test(flags);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
const delayOf = (path) => (path === undefined ? undefined : rules.find((r) => r.code === "DELAY" && String(path).includes(r.match)));

fs.openSync = function openSync(path, flags, mode) {
  const r = find(forWriting(flags) ? "open" : "openr", path) ?? find("openr", path);
  if (r && r.after === null) throw fail(r, "open", path);
  const fd = original.openSync.call(fs, path, flags, mode);
  paths.set(fd, String(path));
  return fd;
};
fs.open = function open(path, flags, mode, callback) {
  const done = [flags, mode, callback].find((a) => typeof a === "function");
  const r = find(forWriting(typeof flags === "function" ? undefined : flags) ? "open" : "openr", path) ?? find("openr", path);
  if (r && r.after === null) { process.nextTick(done, fail(r, "open", path)); return; }
  const args = [flags, mode].filter((a) => a !== undefined && typeof a !== "function");
  original.open.call(fs, path, ...args, (e, fd) => {
    if (!e) paths.set(fd, String(path));
    done(e, fd);
  });
};
fs.close = function close(fd, callback) {
  paths.delete(fd);
  return original.close.call(fs, fd, callback);
};
fs.closeSync = function closeSync(fd) {
  paths.delete(fd);
  return original.closeSync.call(fs, fd);
};
fs.writeSync = function writeSync(fd, buffer, ...rest) {
  const path = paths.get(fd);
  const r = find("write", path);
  if (r) {
    if (r.after === null) throw fail(r, "write", path);
    const done = r.written;
    if (done >= r.after) throw fail(r, "write", path);
    if (typeof buffer !== "string") {
      // (fd, buffer, offset, length, position): cut the write short at the limit
      const [offset = 0, length = buffer.byteLength - offset, position] = rest;
      const n = Math.min(length, r.after - done);
      const wrote = original.writeSync.call(fs, fd, buffer, offset, n, position);
      r.written = done + wrote;
      return wrote;
    }
    r.written = done + Buffer.byteLength(buffer);
  }
  return original.writeSync.call(fs, fd, buffer, ...rest);
};
fs.readSync = function readSync(fd, ...rest) {
  const d = delayOf(paths.get(fd));
  if (d) { log(d, "readSync", paths.get(fd)); sleepSync(d.ms); }
  return original.readSync.call(fs, fd, ...rest);
};
fs.read = function read(fd, ...rest) {
  const d = delayOf(paths.get(fd));
  if (!d) return original.read.call(fs, fd, ...rest);
  log(d, "read", paths.get(fd));
  setTimeout(() => original.read.call(fs, fd, ...rest), d.ms);
};
fs.renameSync = function renameSync(from, to) {
  const r = find("rename", to) ?? find("rename", from);
  if (r) throw Object.assign(fail(r, "rename", from), { dest: String(to) });
  return original.renameSync.call(fs, from, to);
};
fs.mkdirSync = function mkdirSync(path, opts) {
  const r = find("mkdir", path);
  if (r && !fs.existsSync(path)) throw fail(r, "mkdir", path);
  return original.mkdirSync.call(fs, path, opts);
};
fs.accessSync = function accessSync(path, mode) {
  const r = (mode ?? 0) & fs.constants.W_OK ? find("access", path) : undefined;
  if (r) throw fail(r, "access", path);
  return original.accessSync.call(fs, path, mode);
};
fs.readdirSync = function readdirSync(path, ...rest) {
  const r = rules.find((x) => x.ops.has("readdir") && String(path).endsWith(x.match));
  if (r) throw fail(r, "scandir", path);
  return original.readdirSync.call(fs, path, ...rest);
};
for (const [name, syscall] of [["rmSync", "rm"], ["unlinkSync", "unlink"], ["rmdirSync", "rmdir"]]) {
  fs[name] = function (path, ...rest) {
    const r = find("unlink", path);
    if (r) throw fail(r, syscall, path);
    return original[name].call(fs, path, ...rest);
  };
}

// ESM imports of node:fs (`import { openSync } from "node:fs"`) see the patched functions too.
syncBuiltinESMExports();
