// Chapter 2's live demo: max pooling with indices, then max unpooling, on an input the
// reader edits (upsampling.widgets.live_demos_ch124.MaxUnpoolDemo). Both operations are
// ops.js's, the package's max_pool2d and max_unpool2d: the failure without output_size
// (an error, or values written at the wrong place) is the package's own.
import { liveDemo, makeRows, ops, pyArray, pyCall, pyKwargs, pyValue, setText, shapeAxis } from "../live_ui.js";

const reversed5 = makeRows(5, 5, (r, c) => 24 - (5 * r + c));
const PRESETS = [
  { label: "1…16 (4×4)", input: makeRows(4, 4, (r, c) => 4 * r + c + 1) },
  { label: "5×5, maxima top-left", input: reversed5 },
  { label: "5×5, maxima bottom-right", input: makeRows(5, 5, (r, c) => 5 * r + c) },
  {
    label: "ties",
    input: [
      [1, 3, 3, 0, 2],
      [3, 1, 0, 2, 2],
      [0, 4, 4, 1, 0],
      [4, 0, 4, 5, 5],
      [2, 2, 1, 5, 5],
    ],
  },
];

/** Where flat index `i` of a plane `width` wide is: [row, column]. */
const place = (i, width) => [Math.floor(i / width), i % width];

export default liveDemo({
  setup(demo) {
    demo.root.classList.add("ch124-demo"); // see ch124.css: dark mode
    demo.axes([
      shapeAxis("input_size", "input", 8, 0),
    ]);
    demo.integer("kernel_size", { min: 1, max: 4 });
    demo.integer("stride", { min: 1, max: 4 });
    demo.checkbox("output_size", { label: "output_size = the input's size" });
    demo.presets(
      PRESETS.map((p) => ({ label: p.label, apply: () => ({ input: p.input.map((r) => r.slice()) }) })),
      { label: "input" },
    );
    const grid = demo.grid("input", { caption: "input" });
    const pooledTable = demo.table("pooled");
    const indicesTable = demo.table("indices", { palette: "count" });
    const outputTable = demo.table("output");
    const note = demo.note();

    return (s) => {
      grid.mark(() => "");
      const x = ops.array([[s.input]]);
      const [height, width] = [s.input.length, s.input[0].length];
      const [pooled, indices] = ops.max_pool2d(x, s.kernel_size, { stride: s.stride, return_indices: true });
      pooledTable.show(pooled);
      indicesTable.show(indices);
      const kept = new Set();
      for (const i of indices.data) kept.add(place(i, width).join(","));
      grid.mark((r, c) => (kept.has(`${r},${c}`) ? "ch124-kept" : ""));
      const [ph, pw] = pooled.shape.slice(-2);
      const assumed = [(ph - 1) * s.stride + s.kernel_size, (pw - 1) * s.stride + s.kernel_size];
      const options = { stride: s.stride };
      if (s.output_size) options.output_size = [height, width];
      let out;
      try {
        out = ops.max_unpool2d(pooled, indices, s.kernel_size, options);
      } catch (error) {
        outputTable.clear();
        setText(
          note,
          `Without output_size, max_unpool2d assumes a ${assumed[0]}×${assumed[1]} output, but the ` +
          `indices count positions in rows of ${width}: an index does not fit, and the package refuses.`,
        );
        throw error;
      }
      const [oh, ow] = out.shape.slice(-2);
      const written = new Set();
      for (const i of indices.data) written.add(place(i, ow).join(","));
      outputTable.show(out, { mark: (r, c) => (written.has(`${r},${c}`) ? "ch124-kept" : "") });
      const misplaced = new Set(
        [...indices.data].filter((i) => place(i, width).join(",") !== place(i, ow).join(",")),
      ).size;
      const distinct = kept.size;
      const twice = indices.data.length - distinct;
      let text =
        `${indices.data.length} window(s), ${distinct} distinct maxima` +
        (twice ? ` (${twice} remembered twice by overlapping windows, written once)` : "") +
        `; output ${oh}×${ow}.`;
      if (oh !== height || ow !== width) {
        text +=
          ` The input was ${height}×${width}: without output_size the output is too small` +
          (misplaced ? `, and ${misplaced} of the maxima land at the wrong place.` : ".");
      }
      setText(note, text);
    };
  },
  python(s) {
    // stride=None, the package's default, is kernel_size.
    const args = pyKwargs(s, { stride: s.kernel_size });
    const unpool = { ...args };
    if (s.output_size) unpool.output_size = "x.shape[-2:]";
    return [
      "import numpy as np",
      "from upsampling import max_pool2d, max_unpool2d",
      "",
      `x = ${pyArray(s.input, "[None, None]")}`,
      `pooled, indices = ${pyCall("max_pool2d", ["x", pyValue(s.kernel_size)], { ...args, return_indices: "True" })}`,
      pyCall("max_unpool2d", ["pooled", "indices", pyValue(s.kernel_size)], unpool),
    ].join("\n");
  },
});
