// Chapter 1's live demo: every feature-map size of an encoder-decoder, for any input size
// and any settings per level, and every fix where a skip connection does not line up
// (upsampling.widgets.live_demos_ch124.SizeTrackerDemo). The plan is size_plan.js, a
// mirror of upsampling.plots.sizes.size_plan tested against it.
import { liveDemo, morph, ops, pyCall, pyKwargs, pyValue, setText, sketch } from "../live_ui.js";
import { levelRows } from "./level_rows.js";
import { FIXES, size_plan } from "./size_plan.js";

const MAX_DEPTH = 6;
const SVG = "http://www.w3.org/2000/svg";
const FIX_LABELS = {
  output_padding: "output_padding",
  output_size: "output_size",
  crop: "crop the larger map",
  pad: "pad the smaller map",
};

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The views are sketched afresh on every change (live_ui.js sketch) and morphed into what
// is shown.
const svg = (tag, attrs, text) => sketch(tag, attrs, text, SVG);

/** The settings of the first `depth` levels: one list per argument. */
function levels(s) {
  return {
    kernel_size: s.kernel_size.slice(0, s.depth),
    stride: s.stride.slice(0, s.depth),
    padding: s.padding.slice(0, s.depth),
  };
}

/** Whether every value of a per-level list is an integer from min to max. */
const inRange = (values, min, max) => values.every((v) => Number.isInteger(v) && v >= min && v <= max);

/** A per-level list as the reader would write it: one int when every level agrees. */
function perLevelText(values) {
  return values.every((v) => v === values[0]) ? pyValue(values[0]) : pyValue(values);
}

/** What a fix says, in a table cell. */
function fixText(fix) {
  if (fix.error) return `refused: ${fix.error}`;
  if (fix.name === "output_padding") return `output_padding=${fix.value} gives ${fix.size}`;
  if (fix.name === "output_size") return `output_size=${fix.value} gives ${fix.size}`;
  const verb = fix.name === "crop" ? "crop" : "pad";
  const what = fix.target === "skip" ? "the skip" : "the decoder output";
  return `${verb} ${what}: ${fix.before} row(s) before, ${fix.after} after → ${fix.size}`;
}

/** The U of the network: encoder boxes on the left, decoder boxes on the right. */
function drawPlan(plan, chosen) {
  const depth = plan.encoder.length - 1;
  const width = 660;
  const row = 38;
  const height = row * (depth + 1) + 34;
  const largest = Math.max(...plan.encoder, ...plan.decoder.map((d) => Math.max(d.raw, d.size)));
  const boxWidth = (size) => 34 + (150 * size) / largest;
  const picture = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    class: "ch124-plan",
    "aria-hidden": "true",
  });
  picture.children.push(
    svg("text", { x: 10, y: 14, class: "ch124-heading" }, "encoder (conv)"),
    svg("text", { x: width - 10, y: 14, "text-anchor": "end", class: "ch124-heading" }, "decoder (transposed conv)"),
  );
  const top = 26;
  const box = (x, y, size, anchor, cls, label) => {
    const w = boxWidth(size);
    const left = anchor === "end" ? x - w : x;
    picture.children.push(
      svg("rect", { x: left, y, width: w, height: row - 12, rx: 3, class: cls }),
      svg("text", { x: left + w / 2, y: y + (row - 12) / 2 + 4, "text-anchor": "middle" }, label),
    );
    return [left, left + w];
  };
  plan.encoder.forEach((size, level) => {
    const y = top + row * level;
    const [, right] = box(10 + 22 * level, y, size, "start", "ch124-encoder", String(size));
    if (level === depth) {
      box(width - 10 - 22 * level, y, size, "end", "ch124-decoder", String(size));
      return;
    }
    const step = plan.decoder[depth - 1 - level];
    const label = step.raw === step.skip ? String(step.raw) : `${step.raw} → ${step.size}`;
    const cls = step.raw === step.skip ? "ok" : chosen === "crop" ? "crop" : "fixed";
    const [left] = box(width - 10 - 22 * level, y, Math.max(step.raw, step.size), "end", `ch124-decoder ${cls}`, label);
    const mid = y + (row - 12) / 2;
    picture.children.push(svg("line", { x1: right + 4, y1: mid, x2: left - 4, y2: mid, class: `ch124-skip ${cls}` }));
    const note =
      step.raw === step.skip
        ? "lines up"
        : `${step.raw} ≠ ${step.skip}: ${fixText(step.fixes.find((f) => f.name === chosen))}`;
    picture.children.push(
      svg("text", { x: (right + left) / 2, y: mid - 5, "text-anchor": "middle", class: `ch124-note ${cls}` }, note),
    );
  });
  return picture;
}

export default liveDemo({
  setup(demo) {
    demo.root.classList.add("ch124-demo"); // see ch124.css: dark mode
    demo.integer("input_size", { min: 1, max: 1024 });
    demo.integer("depth", { min: 1, max: MAX_DEPTH });
    demo.select("fix", FIXES.map((f) => ({ value: f, label: FIX_LABELS[f] })));
    const levelBox = el("div", { class: "ch124-levels" });
    demo.controlsEl.append(levelBox);
    const syncLevels = levelRows(demo, levelBox, {
      count: (s) => s.depth,
      name: (l) => `level ${l + 1}`,
      fields: [["kernel_size", 1, 7], ["stride", 1, 4], ["padding", 0, 3]].map(([key, min, max]) => ({
        key,
        min,
        max,
        get: (s, l) => s[key][l],
        set: (v, s, l) => ({ [key]: s[key].map((old, i) => (i === l ? v : old)) }),
      })),
    });
    const same = (k, s, p) => () => ({
      kernel_size: Array(MAX_DEPTH).fill(k),
      stride: Array(MAX_DEPTH).fill(s),
      padding: Array(MAX_DEPTH).fill(p),
    });
    demo.presets([
      { label: "conv 3×3, stride 2, padding 1", apply: same(3, 2, 1) },
      { label: "2×2 pooling (k 2, s 2)", apply: same(2, 2, 0) },
      { label: "DCGAN (k 4, s 2, p 1)", apply: same(4, 2, 1) },
      { label: "stride 1", apply: same(3, 1, 1) },
    ], { label: "every level" });

    const picture = el("div", { class: "ch124-picture" });
    demo.viewsEl.append(picture);
    const summary = demo.note();
    const sizes = el("table", { class: "ch124-text-table ch124-sizes" });
    sizes.dataset.array = "sizes";
    const fixes = el("table", { class: "ch124-text-table ch124-fixes" });
    fixes.dataset.array = "fixes";
    demo.viewsEl.append(sizes, fixes);

    // A refused setting veils what was drawn (out of sight, its place kept: live.css)
    // rather than emptying it: the next plan, most likely much the same, is morphed into
    // it (emptied, the views were laid out and painted anew: 4.5 ms of the change back).
    const veil = (on) => {
      for (const view of [picture, summary, sizes, fixes]) view.classList.toggle("live-veiled", on);
    };

    return (s) => {
      syncLevels(s);
      let plan;
      try {
        plan = size_plan(s.input_size, s.depth, { ...levels(s), fix: s.fix });
      } catch (error) {
        if (error instanceof ops.PackageError) veil(true);
        throw error;
      }
      veil(false);
      // Sketched afresh, morphed into what is shown: only what changed is laid out again.
      morph(picture, drawPlan(plan, s.fix));

      // sizes: one row per level, the encoder's map and what the decoder makes of it.
      const head = sketch("tr");
      for (const name of ["level", "encoder", "decoder gives", "after the fix"]) {
        head.children.push(sketch("th", { scope: "col" }, name));
      }
      const body = sketch("tbody");
      plan.encoder.forEach((size, level) => {
        const tr = sketch("tr");
        tr.children.push(sketch("th", { scope: "row" }, level === 0 ? "input" : String(level)));
        const step = plan.decoder.find((d) => d.level === level + 1);
        const cells = step ? [size, step.raw, step.size] : [size, "", ""];
        cells.forEach((v, i) => {
          const td = sketch("td", {}, String(v));
          if (v !== "") td.attrs["data-value"] = String(v);
          if (step && i === 1 && step.raw !== step.skip) td.attrs.class = "ch124-mismatch";
          tr.children.push(td);
        });
        body.children.push(tr);
      });
      const thead = sketch("thead");
      thead.children.push(head);
      morph(sizes, sketch("caption", {}, "sizes"), thead, body);

      // fixes: every way to line up each skip that does not.
      const broken = plan.decoder.filter((d) => d.raw !== d.skip);
      const fixHead = sketch("tr");
      for (const name of ["level", "decoder gives", "skip", ...FIXES]) fixHead.children.push(sketch("th", { scope: "col" }, name));
      const fixBody = sketch("tbody");
      for (const step of broken) {
        const tr = sketch("tr");
        tr.children.push(sketch("th", { scope: "row" }, String(step.level)));
        tr.children.push(sketch("td", {}, String(step.raw)), sketch("td", {}, String(step.skip)));
        for (const fix of step.fixes) {
          const td = sketch("td", { class: fix.error ? "ch124-refused" : fix.name === s.fix ? "ch124-chosen" : "" }, fixText(fix));
          td.attrs["data-fix"] = fix.name;
          tr.children.push(td);
        }
        fixBody.children.push(tr);
      }
      const fixThead = sketch("thead");
      fixThead.children.push(fixHead);
      morph(fixes, sketch("caption", {}, "fixes"), ...(broken.length ? [fixThead, fixBody] : []));
      if (fixes.hidden !== (broken.length === 0)) fixes.hidden = broken.length === 0;

      const out = plan.output;
      setText(
        summary,
        broken.length === 0
          ? `Every skip connection lines up: ${s.input_size} comes back as ${out}.`
          : `${broken.length} of ${s.depth} skip connection(s) do not line up (level ` +
            `${broken.map((d) => d.level).join(", ")}); with ${FIX_LABELS[s.fix]} the decoder ends at ` +
            `${out}${out === s.input_size ? ", the input's size" : `, not the input's ${s.input_size}`}.`,
      );
    };
  },
  // Settings from a URL: every level's value in the range its control offers.
  valid: (s) =>
    inRange(s.kernel_size, 1, 7) && inRange(s.stride, 1, 4) && inRange(s.padding, 0, 3),
  python(s) {
    const l = levels(s);
    return (
      "from upsampling.plots.sizes import size_plan\n\n" +
      "plan = " +
      pyCall("size_plan", [pyValue(s.input_size)], {
        depth: pyValue(s.depth),
        ...pyKwargs(
          { ...l, fix: s.fix },
          { kernel_size: 3, stride: 2, padding: 1, fix: "output_padding" },
          (v) => (Array.isArray(v) ? perLevelText(v) : pyValue(v)),
        ),
      }) +
      "\nplan.encoder, [(step.raw, step.skip) for step in plan.decoder], plan.output"
    );
  },
});
