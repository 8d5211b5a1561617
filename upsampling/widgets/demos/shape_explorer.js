// Chapter 3's shape explorer: one axis of a transposed convolution, for any input_size,
// kernel_size, stride, padding, output_padding and dilation. Where each output cell comes
// from (the tap of each input value's kernel copy), how many copies land on it, what
// `padding` crops and `output_padding` takes back, and the output size, all computed here
// with ops.js; an invalid combination shows the package's own message.

import { conv_transpose_output_size, conv_transpose2d } from "../ops.js";
import { liveDemo, makeRows, pyCall, pyKwargs, setText } from "../live_ui.js";

const LIMITS = { input_size: 16, kernel_size: 7, stride: 4, output_padding: 3, dilation: 4 };

/** Length of the uncropped result: every copy in full, plus output_padding. */
function fullLength(s) {
  return (s.input_size - 1) * s.stride + s.dilation * (s.kernel_size - 1) + 1 + s.output_padding;
}

/** The largest padding that leaves an output, plus one to show what happens beyond. */
function paddingMax(s) {
  return Math.floor((fullLength(s) - 1) / 2) + 1;
}

function setup(demo) {
  demo.integer("input_size", { min: 1, max: LIMITS.input_size });
  demo.integer("kernel_size", { min: 1, max: LIMITS.kernel_size });
  demo.integer("stride", { min: 1, max: LIMITS.stride });
  demo.integer("padding", { min: 0, max: paddingMax });
  demo.integer("output_padding", { min: 0, max: LIMITS.output_padding });
  demo.integer("dilation", { min: 1, max: LIMITS.dilation });

  const formula = demo.note();
  // The copies and their overlap share columns (one per cell of the full result).
  const full = demo.panel("the full result, before padding crops it", { scroll: true });
  const copies = demo.table("copies", {
    palette: "mark",
    className: "live-compact",
    parent: full,
  });
  // One row each, kept as tables (cells as wide as the copies' columns, so they line up).
  const row = { palette: "count", className: "live-compact", picture: false };
  const overlap = demo.table("overlap", { ...row, parent: full });
  const output = demo.table("output", { ...row, parent: demo.panel("", { scroll: true }) });
  const legend = demo.note();

  return (s) => {
    const size = conv_transpose_output_size(s.input_size, s.kernel_size, {
      stride: s.stride,
      padding: s.padding,
      output_padding: s.output_padding,
      dilation: s.dilation,
    });
    setText(
      formula,
      `output size = (${s.input_size} − 1)·${s.stride} − 2·${s.padding} + ` +
      `${s.dilation}·(${s.kernel_size} − 1) + ${s.output_padding} + 1 = ${size}`,
    );
    const length = fullLength(s);
    // Row i: the tap t of input i's kernel copy at each cell it covers (i·stride + t·dilation).
    const taps = makeRows(s.input_size, length, () => null);
    const counts = new Array(length).fill(0);
    for (let i = 0; i < s.input_size; i++) {
      for (let t = 0; t < s.kernel_size; t++) {
        const q = i * s.stride + t * s.dilation;
        taps[i][q] = t;
        counts[q] += 1;
      }
    }
    const kept = (q) => q >= s.padding && q < s.padding + size;
    const mark = (_r, q) => (kept(q) ? "" : "live-cropped");
    copies.show(taps, { mark, scale: s.kernel_size });
    overlap.show([counts], { mark });
    // The output: the overlap counts that padding keeps, computed as the package would,
    // a transposed convolution of ones with ones.
    const ones = (n) => [[new Array(n).fill(1)]];
    const y = conv_transpose2d([ones(s.input_size)], [ones(s.kernel_size)], {
      stride: [1, s.stride],
      padding: [0, s.padding],
      output_padding: [0, s.output_padding],
      dilation: [1, s.dilation],
    });
    output.show(y);
    setText(
      legend,
      `${length} cells in the full result (output_padding included); padding crops ` +
      `${s.padding} at each end (hatched); the output keeps ${size}.`,
    );
  };
}

function python(s) {
  const kwargs = pyKwargs(s, { stride: 1, padding: 0, output_padding: 0, dilation: 1 });
  return (
    "from upsampling import conv_transpose_output_size\n\n" +
    pyCall("conv_transpose_output_size", [String(s.input_size), String(s.kernel_size)], kwargs)
  );
}

export default liveDemo({ setup, python });
