// Runs the pure logic of chapters 1, 2 and 4's live demos (upsampling/widgets/demos/*.js)
// on a batch of cases, for tests/test_live_demos_ch124.py.
//
// Usage: node tests/js/run_demo_logic.mjs ops.js module.js < cases.json > results.json
// The root package.json says nothing of modules, so both files are imported from data:
// URLs of their text (the module's `from "../ops.js"` pointed at ops.js's URL): exactly
// the text the book ships. Input: {"cases": [{"fn": name, "args": [...]}, ...]}; output:
// one entry per case, {"ok": result} or {"error": {"name", "message"}}. Tensors
// ({shape, data: Float64Array}) come back as {"shape", "data": [...]}.
import { readFileSync } from "node:fs";

const url = (text) => `data:text/javascript;base64,${Buffer.from(text).toString("base64")}`;
const opsUrl = url(readFileSync(process.argv[2], "utf8"));
const source = readFileSync(process.argv[3], "utf8").replaceAll('"../ops.js"', JSON.stringify(opsUrl));
const module = await import(url(source));

function plain(value) {
  if (value instanceof Float64Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { cases } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = cases.map(({ fn, args }) => {
  try {
    return { ok: plain(module[fn](...args)) };
  } catch (error) {
    return { error: { name: error.name, message: error.message } };
  }
});
process.stdout.write(JSON.stringify(results));
