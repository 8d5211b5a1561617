// Chapter 3's matrix view: a convolution on an input of any size up to 6×6, with a kernel
// the reader types, as its matrix C (one row per output value: the kernel laid over the
// flattened input), and the transposed convolution as Cᵀ. Beside Cᵀ, how many kernel
// entries each of its rows collects (its taps, zeros included), also laid out as the
// input image: the overlap of the transposed convolution's copies. Computed by ops.js.

import { conv_matrix } from "../ops.js";
import { liveDemo, makeRows, plane, pyArg, pyArray, pyCall, pyKwargs, setText, shapeAxis, shapeOf } from "../live_ui.js";

const MAX_INPUT = 6;
const MAX_KERNEL = 6;


function transpose(rows) {
  return rows.length ? rows[0].map((_, c) => rows.map((row) => row[c])) : [];
}

function setup(demo) {
  demo.axes([
    { key: "input_size", min: 1, max: MAX_INPUT },
    shapeAxis("kernel_size", "weight", MAX_KERNEL),
    { key: "stride", min: 1, max: 4 },
    { key: "padding", min: 0, max: 3 },
    { key: "dilation", min: 1, max: 3 },
  ]);
  const left = demo.panel();
  const weight = demo.grid("weight", { parent: left });
  const image = demo.table("entries per row of Cᵀ, as the input image", {
    palette: "count",
    parent: left,
  });
  // C and Cᵀ are drawn at every size: at large paddings and dilations C shrinks to a row
  // of 36 cells (Cᵀ to a column), and a control moving there and back would otherwise
  // swap each picture for a table of 36 cells and back every time.
  const c = demo.table("C", { className: "live-compact", picture: "always" });
  const transposed = demo.panel("", { row: true, alignEnd: true });
  const ct = demo.table("Cᵀ", { className: "live-compact", parent: transposed, picture: "always" });
  const counts = demo.table("entries per row of Cᵀ", {
    palette: "count",
    className: "live-compact",
    parent: transposed,
  });
  const note = demo.note();

  return (s) => {
    const opts = { stride: s.stride, padding: s.padding, dilation: s.dilation };
    const m = plane(conv_matrix([[s.weight]], s.input_size, opts));
    // Taps per row of Cᵀ: the same matrix for a kernel of ones, summed along its rows.
    const ones = makeRows(...shapeOf(s.weight), () => 1);
    const taps = transpose(plane(conv_matrix([[ones]], s.input_size, opts)));
    const perRow = taps.map((row) => row.reduce((a, b) => a + b, 0));
    c.show(m);
    ct.show(transpose(m));
    counts.show(perRow.map((v) => [v]));
    const [h, w] = s.input_size;
    image.show(makeRows(h, w, (r, q) => perRow[r * w + q]));
    weight.mark(null);
    const distinct = [...new Set(perRow)].sort((a, b) => a - b);
    setText(
      note,
      `C is ${m.length}×${h * w}: ${m.length} output values of the convolution, ${h * w} ` +
      `input values. The rows of Cᵀ collect ${distinct.join(", ")} kernel entries` +
      (distinct.length === 1 ? ": all the same, the overlap is even." : ": uneven overlap."),
    );
  };
}

function python(s) {
  const kwargs = pyKwargs(s, { stride: 1, padding: 0, dilation: 1 });
  return [
    "import numpy as np",
    "from upsampling import conv_matrix",
    "",
    `w = ${pyArray(s.weight)}`,
    `C = ${pyCall("conv_matrix", ["w[None, None]", pyArg(s.input_size)], kwargs)}`,
    "C.T  # the transposed convolution with the same settings",
  ].join("\n");
}

export default liveDemo({ setup, python });
