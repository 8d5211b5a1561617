// Runs upsampling/widgets/ops.js on a batch of cases for tests/upsampling/test_js_parity.py.
//
// Usage: node tests/upsampling/js/run_ops.mjs path/to/ops.js < cases.json > results.json
// The root package.json says nothing of modules, so ops.js (an ES module with a .js name)
// is imported from a data: URL of its text, exactly the text the book ships.
//
// Input: {"cases": [{"op": name, "args": [...], "kwargs": {...}}, ...]}. An array value
// {"__tensor__": shape, "b64": base64 of little-endian float64} becomes a tensor,
// {"__float__": "NaN" | "Infinity" | "-Infinity"} that number; every other value is passed
// as JSON gives it. Output: one entry per case,
// {"ok": result} or {"error": {"name", "message"}}, tensors encoded the same way.
import { readFileSync } from "node:fs";

const source = readFileSync(process.argv[2], "utf8");
const ops = await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === "object") {
    if ("__float__" in value) return Number(value.__float__);
    if ("__tensor__" in value) {
      const bytes = Buffer.from(value.b64, "base64");
      const data = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8).slice();
      return { shape: value.__tensor__, data };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

function encode(value) {
  if (typeof value === "number" && !Number.isFinite(value)) return { __float__: String(value) };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    if (value.data instanceof Float64Array) {
      const b64 = Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength).toString("base64");
      return { __tensor__: value.shape, b64 };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { cases } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = cases.map(({ op, args, kwargs }) => {
  try {
    const positional = decode(args);
    const call = kwargs === undefined ? positional : [...positional, decode(kwargs)];
    return { ok: encode(ops[op](...call)) };
  } catch (error) {
    if (!(error instanceof ops.PackageError)) {
      return { crash: { name: error.name, message: error.message, stack: error.stack } };
    }
    return { error: { name: error.name, message: error.message } };
  }
});
process.stdout.write(JSON.stringify({ results }));
