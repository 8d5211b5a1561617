// Chapter 3's scatter-add: conv_transpose2d one input value at a time. The reader types the
// input (up to 8×8) and the kernel (up to 5×5), picks stride, padding, output_padding and
// dilation per axis, and steps through (or plays) the copies: each input value scales a
// copy of the kernel, the copy is added to the full (uncropped) result, the overlap counts
// grow, and `padding` crops the full result into the output. At the last step the output
// table holds conv_transpose2d's whole result. Everything is computed here by ops.js.

import { conv_transpose2d_steps } from "../ops.js";
import { liveDemo, makeRows, plane, pyArray, pyCall, pyKwargs, setText, shapeAxis, shapeOf } from "../live_ui.js";

const MAX_INPUT = 8;
const MAX_KERNEL = 5;
const SEED_KERNEL = [
  [4, 2, 1],
  [1, 0, 3],
  [0, 5, 2],
];
const LAPLACIAN = [
  [0, 1, 0],
  [1, -4, 1],
  [0, 1, 0],
];
const RESET_ARGS = { stride: [1, 1], padding: [0, 0], output_padding: [0, 0], dilation: [1, 1] };

const steps = (s) => s.input.length * s.input[0].length;

/** Length of the full result along an axis: every copy in full, plus output_padding. */
function fullLength(s, axis) {
  const i = shapeOf(s.input)[axis];
  const k = shapeOf(s.weight)[axis];
  return (i - 1) * s.stride[axis] + s.dilation[axis] * (k - 1) + 1 + s.output_padding[axis];
}

/** The largest padding that leaves an output, plus one to show the package's message. */
const paddingMax = (s, axis) => Math.floor((fullLength(s, axis) - 1) / 2) + 1;

const randomInts = (h, w) => makeRows(h, w, () => Math.floor(Math.random() * 7) - 3);

const PRESETS = [
  {
    label: "seed 001",
    title: "input [[0, 1], [2, 3]], kernel [[0, 1], [2, 3]], stride 1 (d2l.ai's example)",
    apply: () => ({ ...RESET_ARGS, input: [[0, 1], [2, 3]], weight: [[0, 1], [2, 3]] }),
  },
  {
    label: "seed 002",
    title: "input [[2, 0], [4, 1]] and an asymmetric 3×3 kernel, stride 2, padding 1",
    apply: () => ({
      ...RESET_ARGS,
      input: [[2, 0], [4, 1]],
      weight: SEED_KERNEL,
      stride: [2, 2],
      padding: [1, 1],
    }),
  },
  {
    label: "not a deconvolution",
    title: "the chapter's example: a convolution's output, transposed back with the Laplacian",
    apply: () => ({
      ...RESET_ARGS,
      input: [[3, -3, -1], [-2, 3, -3], [-3, 2, 3]],
      weight: LAPLACIAN,
    }),
  },
  {
    label: "ones",
    title: "ones everywhere: the output counts the copies (uneven overlap at stride 2)",
    apply: (s) => ({
      input: makeRows(...shapeOf(s.input), () => 1),
      weight: makeRows(...shapeOf(s.weight), () => 1),
    }),
  },
  {
    label: "Laplacian",
    title: "the Laplacian as the kernel",
    apply: () => ({ weight: LAPLACIAN }),
  },
  {
    label: "random",
    title: "random integers from −3 to 3 in the input and the kernel",
    apply: (s) => ({ input: randomInts(...shapeOf(s.input)), weight: randomInts(...shapeOf(s.weight)) }),
  },
];

function setup(demo) {
  demo.presets(PRESETS.map((p) => ({ ...p, apply: (s) => ({ ...p.apply(s), step: Infinity }) })));
  demo.axes([
    shapeAxis("input_size", "input", MAX_INPUT),
    shapeAxis("kernel_size", "weight", MAX_KERNEL),
    { key: "stride", min: 1, max: 4 },
    { key: "padding", min: 0, max: [(s) => paddingMax(s, 0), (s) => paddingMax(s, 1)] },
    { key: "output_padding", min: 0, max: 3 },
    { key: "dilation", min: 1, max: 3 },
  ]);
  demo.stepper({ count: steps, describe: describeStep });

  const inputs = demo.panel("", { row: true });
  const input = demo.grid("input", { parent: inputs });
  const weight = demo.grid("weight", { parent: inputs });
  const copy = demo.table("copy", { parent: inputs });
  const sums = demo.panel("", { row: true });
  const partial = demo.table("full result", { parent: sums });
  const overlap = demo.table("overlap", { palette: "count", parent: sums });
  const output = demo.table("output", { parent: sums });
  const note = demo.note();

  return (s) => {
    const result = conv_transpose2d_steps([[s.input]], [[s.weight]], {
      stride: s.stride,
      padding: s.padding,
      output_padding: s.output_padding,
      dilation: s.dilation,
    });
    const [fh, fw] = result.full.shape.slice(-2);
    const { top, left, height, width } = result.crop;
    const done = result.steps.slice(0, s.step);
    const last = done[done.length - 1];
    const sum = s.step > 0 ? plane(last.partial) : makeRows(fh, fw, () => 0);

    // Overlap: how many copies have landed on each cell of the full result so far.
    const counts = makeRows(fh, fw, () => 0);
    for (const step of done) {
      for (let r = step.rows[0]; r < step.rows[1]; r += s.dilation[0]) {
        for (let c = step.cols[0]; c < step.cols[1]; c += s.dilation[1]) counts[r][c] += 1;
      }
    }
    const inside = (r, c) => r >= top && r < top + height && c >= left && c < left + width;
    const onLatest = (r, c) =>
      last &&
      r >= last.rows[0] &&
      r < last.rows[1] &&
      (r - last.rows[0]) % s.dilation[0] === 0 &&
      c >= last.cols[0] &&
      c < last.cols[1] &&
      (c - last.cols[0]) % s.dilation[1] === 0;
    const mark = (r, c) => {
      const cropped = inside(r, c) ? "" : "live-cropped";
      return onLatest(r, c) ? (cropped ? "live-latest live-cropped" : "live-latest") : cropped;
    };

    input.mark((r, c) => (last && r === last.i && c === last.j ? "live-source" : ""));
    const scale = last ? last.value : 0;
    copy.show(s.weight.map((row) => row.map((v) => scale * v)));
    partial.show(sum, { mark });
    overlap.show(counts, { mark });
    output.show(makeRows(height, width, (r, c) => sum[r + top][c + left]), {
      mark: (r, c) => (onLatest(r + top, c + left) ? "live-latest" : ""),
    });
    setText(
      note,
      `The full result (copies summed so far) is ${fh}×${fw}; padding (${s.padding.join(", ")}) crops it to the ` +
      `${height}×${width} output (the hatched cells are cropped)` +
      (s.output_padding.some((v) => v > 0)
        ? `, output_padding (${s.output_padding.join(", ")}) keeps that many more rows and ` +
          "columns at the bottom and right."
        : "."),
    );
  };
}

function describeStep(k, n, s) {
  if (n === 0) return "";
  if (k === 0) return `No copy yet: ${n} input values to place. Press Play or move step.`;
  const w = s.input[0].length;
  const i = Math.floor((k - 1) / w);
  const j = (k - 1) % w;
  const v = s.input[i][j];
  const done = k === n ? " All copies placed: the output is the whole result." : "";
  return (
    `Copy ${k} of ${n}: input[${i}, ${j}] = ${v} scales the kernel; the copy starts at row ` +
    `${i * s.stride[0]}, column ${j * s.stride[1]} of the full result.${done}`
  );
}

function python(s) {
  const kwargs = pyKwargs(s, { stride: 1, padding: 0, output_padding: 0, dilation: 1 });
  return [
    "import numpy as np",
    "from upsampling import conv_transpose2d",
    "",
    `x = ${pyArray(s.input)}`,
    `w = ${pyArray(s.weight)}`,
    `y = ${pyCall("conv_transpose2d", ["x[None, None]", "w[None, None]"], kwargs)}`,
    "y[0, 0]",
  ].join("\n");
}

export default liveDemo({ setup, python });
