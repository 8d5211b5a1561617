// Runs the pure logic of chapters 1, 2 and 4's live demos (upsampling/widgets/demos/*.js)
// on a batch of cases, for tests/upsampling/test_demo_logic_ch124.py.
//
// Usage: node tests/upsampling/js/run_demo_logic.mjs module.js < cases.json > results.json
// module.js is a demo module in a copy of upsampling/widgets/ that the test marks as ES
// modules (a package.json with "type": "module"), so that its relative imports (ops.js,
// live_ui.js) resolve as they do in the page: the same files, unchanged. Input: {"cases": [{"fn": name, "args": [...]}, ...]}; output:
// one entry per case, {"ok": result} or {"error": {"name", "message"}}. An argument
// {"__tensor__": shape, "data": [...]} is passed as a tensor; tensors ({shape, data:
// Float64Array}) come back as {"shape", "data": [...]}.
import { pathToFileURL } from "node:url";

const module = await import(pathToFileURL(process.argv[2]).href);

function plain(value) {
  if (value instanceof Float64Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function tensors(value) {
  if (Array.isArray(value)) return value.map(tensors);
  if (value !== null && typeof value === "object") {
    if ("__tensor__" in value) return { shape: value.__tensor__, data: Float64Array.from(value.data) };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tensors(v)]));
  }
  return value;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { cases } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = cases.map(({ fn, args }) => {
  try {
    return { ok: plain(module[fn](...tensors(args))) };
  } catch (error) {
    return { error: { name: error.name, message: error.message } };
  }
});
process.stdout.write(JSON.stringify(results));
