// Chapter 4's live demo: overlap counts of one to three stacked transposed convolutions,
// each with its own kernel_size and stride, the response of the stack to a flat input and
// every kernel's s² phase sums (upsampling.widgets.live_demos_ch124.OverlapDemo). The
// computations are ops.js's (overlap_counts, conv_transpose2d, phase_sums,
// checkerboard_score), the package's; the kernels come from presets or are typed.
import { formatNumber, liveDemo, makeRows, ops, pyArray, pyCall, pyValue, resized, setText } from "../live_ui.js";
import { levelRows } from "./level_rows.js";

const MAX_LAYERS = 3;
const SHOWN = 24; // largest side a table shows in full; bigger maps show their corner
const MAX_SIDE = 256; // largest map computed: a redraw stays within a frame

/** The output side of the stack for a flat input of side n. */
function sideOf(n, s) {
  let side = n;
  for (let l = 0; l < s.layers; l++) side = (side - 1) * s.stride[l] + s[WEIGHTS[l]].length;
  return side;
}
const WEIGHTS = ["weight", "weight_2", "weight_3"];
const PRESET_LABELS = {
  ones: "ones",
  random: "random",
  tent: "tent",
  bilinear: "bilinear (FCN)",
  icnr: "ICNR",
};

/** A small seeded generator (mulberry32): the same "random" kernel for the same seed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (v) => Math.round(100 * v) / 100 || 0;

/**
 * The kernel a preset gives for a layer with kernel_size k and stride s, and its size:
 * ones and random keep k; the tent (1 - |i - (s - 1)| / s, size 2s - 1), FCN's bilinear
 * kernel (bilinear_kernel(s), size 2s - s % 2) and ICNR (a random m × m kernel with every
 * tap repeated over an s × s block: a convolution followed by nearest upsampling, as a
 * transposed convolution, size m·s) set their own.
 */
export function presetKernel(preset, k, s, seed) {
  const random = generator(seed);
  if (preset === "ones") return makeRows(k, k, () => 1);
  if (preset === "random") return makeRows(k, k, () => round2(2 * random() - 1));
  if (preset === "tent") {
    const tent = Array.from({ length: 2 * s - 1 }, (_, i) => 1 - Math.abs(i - (s - 1)) / s);
    return makeRows(tent.length, tent.length, (r, c) => tent[r] * tent[c]);
  }
  if (preset === "bilinear") return ops.tolist(ops.bilinear_kernel(s));
  if (preset === "icnr") {
    const m = Math.max(1, Math.min(Math.floor(8 / s), Math.round(k / s)));
    const small = makeRows(m, m, () => round2(2 * random() - 1));
    return makeRows(m * s, m * s, (r, c) => small[Math.floor(r / s)][Math.floor(c / s)]);
  }
  throw new Error(`no kernel preset ${preset}`);
}

/** The settings patch that gives every layer the preset's kernel. */
function applyPreset(s, preset, seed = s.seed) {
  const patch = { preset, seed, kernel_size: s.kernel_size.slice() };
  for (let l = 0; l < MAX_LAYERS; l++) {
    const w = presetKernel(preset, s.kernel_size[l], s.stride[l], seed + l);
    patch[WEIGHTS[l]] = w;
    patch.kernel_size[l] = w.length;
  }
  return patch;
}

/** The largest flat input, up to input_size, whose map fits MAX_SIDE. */
function flatSize(s) {
  let size = s.input_size;
  while (size > 1 && sideOf(size, s) > MAX_SIDE) size -= 1;
  return size;
}

/** The first `side` rows and columns of a 2-D tensor, as nested arrays. */
function corner(t, side) {
  const [h, w] = t.shape.slice(-2);
  return makeRows(Math.min(h, side), Math.min(w, side), (r, c) => t.data[r * w + c]);
}

/** The flat input's response and its overlap counts through a stack of layers ({weight,
 *  stride}), with their interior's checkerboard scores (null where there is none). */
function flatMaps(size, stack) {
  let y = { shape: [1, 1, size, size], data: new Float64Array(size * size).fill(1) };
  let border = 0;
  let period = 1;
  for (const { weight, stride } of stack) {
    const k = weight.length;
    y = ops.conv_transpose2d(y, { shape: [1, 1, k, k], data: Float64Array.from(weight.flat()) }, { stride });
    border = border * stride + (k - 1);
    period *= stride;
  }
  const layers = stack.map(({ weight, stride }) => ({ kernel_size: weight.length, stride }));
  const counts = ops.overlap_counts([size, size], layers[0].kernel_size, { stride: layers[0].stride, layers });
  const side = counts.shape[0];
  const interior = side - 2 * border;
  const scored = period > 1 && interior >= period;
  const score = (t) => (scored ? ops.checkerboard_score(t, period, { border }) : null);
  return { y, counts, border, period, side, interior, countScore: score(counts), outScore: score(y) };
}

/** flatMaps, remembering the last few stacks: a control moved back and forth between two
 *  values redraws from here instead of computing up to 65,536 cells again. */
function keptFlatMaps(kept = new Map(), most = 4) {
  return (size, stack) => {
    const key = JSON.stringify([size, stack]);
    const maps = kept.get(key) ?? flatMaps(size, stack);
    kept.delete(key);
    kept.set(key, maps); // (the most recent last)
    if (kept.size > most) kept.delete(kept.keys().next().value);
    return maps;
  };
}

export default liveDemo({
  setup(demo) {
    demo.root.classList.add("ch124-demo"); // see ch124.css: dark mode
    demo.integer("layers", { min: 1, max: MAX_LAYERS });
    demo.integer("input_size", { min: 1, max: 8 });
    const layerBox = document.createElement("div");
    layerBox.className = "ch124-levels";
    demo.controlsEl.append(layerBox);
    const syncLayers = levelRows(demo, layerBox, {
      count: (s) => s.layers,
      name: (l) => `layer ${l + 1}`,
      fields: [
        {
          key: "kernel_size",
          min: 1,
          max: 8,
          get: (s, l) => s.kernel_size[l],
          set: (v, s, l) => {
            const kernel_size = s.kernel_size.map((old, i) => (i === l ? v : old));
            if (s.preset === "ones" || s.preset === "random") {
              return { kernel_size, [WEIGHTS[l]]: presetKernel(s.preset, v, s.stride[l], s.seed + l) };
            }
            return { kernel_size, preset: "typed", [WEIGHTS[l]]: resized(s[WEIGHTS[l]], v, v, 0) };
          },
        },
        {
          key: "stride",
          min: 1,
          max: 4,
          get: (s, l) => s.stride[l],
          set: (v, s, l) => {
            const stride = s.stride.map((old, i) => (i === l ? v : old));
            if (["tent", "bilinear", "icnr"].includes(s.preset)) {
              const w = presetKernel(s.preset, s.kernel_size[l], v, s.seed + l);
              return {
                stride,
                [WEIGHTS[l]]: w,
                kernel_size: s.kernel_size.map((old, i) => (i === l ? w.length : old)),
              };
            }
            return { stride };
          },
        },
      ],
    });
    demo.presets(
      Object.entries(PRESET_LABELS).map(([preset, label]) => ({
        label,
        apply: (s) => applyPreset(s, preset, preset === "random" || preset === "icnr" ? s.seed + MAX_LAYERS : s.seed),
      })),
      { label: "kernel" },
    );
    const presetNote = demo.note({ parent: demo.controlsEl });

    const kernels = document.createElement("div");
    kernels.className = "ch124-panels";
    demo.viewsEl.append(kernels);
    const panels = [];
    for (let l = 0; l < MAX_LAYERS; l++) {
      const panel = demo.panel(`layer ${l + 1}`, { parent: kernels });
      const heading = panel.firstChild;
      const grid = demo.grid(WEIGHTS[l], { caption: l ? `weight ${l + 1}` : "weight", parent: panel });
      const sums = demo.table(l ? `phase sums ${l + 1}` : "phase sums", { parent: panel });
      const verdict = demo.note({ parent: panel });
      panels.push({ panel, heading, grid, sums, verdict });
    }
    // Editing a kernel by hand leaves the presets.
    for (const { grid } of panels) {
      const edited = grid.edited.bind(grid);
      grid.edited = (input, r, c) => {
        if (demo.settings.preset !== "typed") demo.settings = { ...demo.settings, preset: "typed" };
        edited(input, r, c);
      };
    }
    const maps = document.createElement("div");
    maps.className = "ch124-panels";
    demo.viewsEl.append(maps);
    const overlapPanel = demo.panel("overlap counts (ones in, ones kernels)", { parent: maps });
    const overlap = demo.table("overlap", { parent: overlapPanel, palette: "count" });
    const overlapNote = demo.note({ parent: overlapPanel });
    const outputPanel = demo.panel("response to a flat input (ones in, these kernels)", { parent: maps });
    const output = demo.table("output", { parent: outputPanel });
    const outputNote = demo.note({ parent: outputPanel });

    // A layer's panel, once shown, stays (dimmed, its kernel still editable) when the stack
    // is made shorter, until the demo is reset: laying out a panel of 64 inputs anew each
    // time layers goes back up took 3 ms of a 13 ms change, and the demo keeps its height
    // anyway (keepTallest).
    let panelsShown = 0;
    demo.onReset(() => (panelsShown = 0));
    const mapsOf = keptFlatMaps();
    return (s) => {
      const n = s.layers;
      panelsShown = Math.max(panelsShown, n);
      setText(presetNote, `kernel: ${s.preset === "typed" ? "typed by hand" : PRESET_LABELS[s.preset]}`);
      panels.forEach((p, l) => {
        p.panel.hidden = l >= panelsShown;
        if (p.panel.hidden) {
          p.sums.clear(); // a panel out of sight shows nothing
          setText(p.verdict, "");
        }
        p.panel.classList.toggle("ch124-off", l >= n);
        setText(p.heading, l < n ? `layer ${l + 1}` : `layer ${l + 1} (not in the stack: layers is ${n})`);
      });
      syncLayers(s);
      const stack = [];
      for (let l = 0; l < panelsShown; l++) {
        const w = s[WEIGHTS[l]];
        const stride = s.stride[l];
        const sums = ops.phase_sums(w, stride);
        const { sums: table, verdict } = panels[l];
        table.show(sums);
        const values = Array.from(sums.data);
        const spread = Math.max(...values) - Math.min(...values);
        setText(
          verdict,
          stride === 1
            ? "stride 1: one phase, nothing to compare"
            : spread <= 1e-9 * Math.max(1, ...values.map(Math.abs))
              ? `all ${stride * stride} phase sums equal: a flat input gives a flat interior`
              : `phase sums from ${formatNumber(Math.min(...values))} to ${formatNumber(Math.max(...values))}: ` +
                "the interior repeats them",
        );
        if (l < n) stack.push({ weight: w, stride });
      }
      const size = flatSize(s);
      const { y, counts, border, period, side, interior, countScore, outScore } = mapsOf(size, stack);
      overlap.show(corner(counts, SHOWN));
      output.show(corner(y, SHOWN));
      const shownText =
        (size < s.input_size ? ` from a ${size}×${size} input (${s.input_size} would exceed ${MAX_SIDE} a side)` : "") +
        (side > SHOWN ? `; the table shows its top-left ${SHOWN}×${SHOWN}` : "");
      let scores = "";
      if (period === 1) scores = "stride 1 everywhere: no phases, score 0";
      else if (interior < period) scores = `no interior: ${side} is too small for a border of ${border} and a period of ${period}`;
      else {
        scores = `interior (border ${border}, period ${period}): overlap score ${formatNumber(countScore)}`;
        setText(outputNote, `${side}×${side}${shownText}; checkerboard score of the interior: ${formatNumber(outScore)}`);
      }
      setText(overlapNote, `${side}×${side}${shownText}; ${scores}`);
      if (period === 1 || interior < period) setText(outputNote, `${side}×${side}${shownText}`);
    };
  },
  // Settings from a URL: each layer's kernel_size and stride in range, its kernel square
  // and as large as its kernel_size, a known preset, an integer seed.
  valid: (s) =>
    s.kernel_size.every((k) => Number.isInteger(k) && k >= 1 && k <= 8) &&
    s.stride.every((v) => Number.isInteger(v) && v >= 1 && v <= 4) &&
    WEIGHTS.every((key, l) => s[key].length === s.kernel_size[l] && s[key][0].length === s.kernel_size[l]) &&
    (s.preset in PRESET_LABELS || s.preset === "typed") &&
    Number.isInteger(s.seed),
  python(s) {
    const n = s.layers;
    const size = flatSize(s);
    const weights = WEIGHTS.slice(0, n).map((key) => `    ${pyArray(s[key]).replace(/\n/g, "\n    ")},`);
    const strides = s.stride.slice(0, n);
    const layers = strides.map((stride, l) => `{"kernel_size": ${s[WEIGHTS[l]].length}, "stride": ${stride}}`);
    return [
      "import numpy as np",
      "from upsampling import conv_transpose2d, overlap_counts",
      "from upsampling.checkerboard import phase_sums",
      "",
      `weights = [\n${weights.join("\n")}\n]`,
      `strides = ${pyValue(strides)}`,
      `counts = ${pyCall("overlap_counts", [`(${size}, ${size})`, String(s[WEIGHTS[0]].length)], {
        stride: String(strides[0]),
        layers: `[${layers.join(", ")}]`,
      })}`,
      `y = np.ones((1, 1, ${size}, ${size}))`,
      "for w, s in zip(weights, strides):",
      "    y = conv_transpose2d(y, w[None, None], stride=s)",
      "sums = [phase_sums(w, s) for w, s in zip(weights, strides)]",
    ].join("\n");
  },
});
