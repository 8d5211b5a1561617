// Chapter 2's live demo: a photograph upsampled by any factor from 1 to 4 with every
// fixed method, computed in the page from the photograph's pixels, which travel in the
// widget state (upsampling.widgets.live_demos_ch124.UpsamplePhotoDemo). The interpolation
// is ops.js's interpolate (the package's, tested against it); bed of nails and the
// choice of method are upsample.js, a mirror of upsampling.plots.unpooling.upsample.
import { liveDemo, ops, pyCall, pyKwargs, pyValue, setText } from "../live_ui.js";
import { WINDOW, putGreys, region, zoomable } from "./photo_zoom.js";
import { METHODS, methodOf, upsample } from "./upsample.js";

const VIEW = 240; // CSS pixels of each picture: both cover the same area

// The pixels last written to each canvas, reused while its size stays (a new ImageData per
// change is garbage the collector then stops the page for).
const PIXELS = new WeakMap();

function paint(canvas, image, box) {
  const [h, w] = image.shape;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const context = canvas.getContext("2d");
  let pixels = PIXELS.get(canvas);
  if (pixels?.width !== w || pixels.height !== h) {
    pixels = context.createImageData(w, h);
    PIXELS.set(canvas, pixels);
  }
  putGreys(image.data, pixels);
  context.putImageData(pixels, 0, 0);
  if (box) {
    context.strokeStyle = "#00e5ff";
    context.lineWidth = Math.max(0.5, w / VIEW);
    context.strokeRect(box[1], box[0], box[3] - box[1], box[2] - box[0]);
  }
}

// Outputs already computed for the photograph shown, by method and factor (the most
// recently used kept, as many as there are methods: 2 MB each for a photograph of 128
// pixels at ×4): a method the reader switches back to, or one prepared while the page was
// idle (see prepareOthers), is drawn without computing it again.
const KEPT = METHODS.length;

function outputsFor() {
  const outputs = new Map(); // "method|factor" -> tensor (H_out, W_out), never written to
  let source = null;
  return (image, method, factor) => {
    if (source !== image) {
      outputs.clear();
      source = image;
    }
    const key = `${method}|${factor}`;
    let out = outputs.get(key);
    if (out) outputs.delete(key);
    else out = upsample(image, method, factor);
    outputs.set(key, out);
    if (outputs.size > KEPT) outputs.delete(outputs.keys().next().value);
    return out;
  };
}

export default liveDemo({
  setup(demo) {
    demo.root.classList.add("ch124-demo"); // see ch124.css: dark mode
    demo.select("mode", ["nearest", "nearest-exact", "bilinear", "bed of nails"]);
    demo.checkbox("align_corners");
    demo.slider("scale_factor", { min: 1, max: 4, step: 0.01, format: (v) => `×${v}` });
    demo.presets(
      [1.5, 2, 2.5, 3, 4].map((v) => ({ label: `×${v}`, apply: () => ({ scale_factor: v }) })),
      { label: "scale_factor" },
    );

    const pictures = document.createElement("div");
    pictures.className = "ch124-canvases";
    demo.viewsEl.append(pictures);
    const figure = (label) => {
      const fig = document.createElement("figure");
      const canvas = document.createElement("canvas");
      canvas.style.width = `${VIEW}px`;
      canvas.style.height = `${VIEW}px`;
      canvas.tabIndex = 0;
      canvas.setAttribute("role", "img");
      const caption = document.createElement("figcaption");
      caption.textContent = label;
      fig.append(canvas, caption);
      pictures.append(fig);
      return [canvas, caption];
    };
    const [inputCanvas, inputCaption] = figure("input");
    const [outputCanvas, outputCaption] = figure("output");
    const tables = document.createElement("div");
    tables.className = "ch124-panels";
    demo.viewsEl.append(tables);
    const inputTable = demo.table("input", { parent: tables, palette: "count" });
    const outputTable = demo.table("output", { parent: tables, palette: "count" });
    const note = demo.note();

    // The zoomed region: click a picture, or focus it and use the arrow keys.
    for (const canvas of [inputCanvas, outputCanvas]) {
      canvas.setAttribute("aria-label", "click or use the arrow keys to move the zoomed region");
      zoomable(demo, canvas);
    }

    let image = null;
    let imageRows = null;
    let inputShown = ""; // the zoomed region the input picture shows
    const upsampled = outputsFor();
    // The output pixels that cover the zoomed input region: floor(i * s) to floor(j * s).
    const outBoxOf = ([oh, ow], [r0, c0], factor) => {
      const at = (i, n) => Math.min(n, Math.floor(i * factor));
      return [at(r0, oh), at(c0, ow), at(r0 + WINDOW, oh), at(c0 + WINDOW, ow)];
    };
    // Once the reader stops, the other methods at this factor, computed and their numbers'
    // tiles made (one method per idle period): the first switch to bilinear at ×4 otherwise
    // computes it and makes 256 new tiles within the change (11 ms where a later switch
    // takes 6-7).
    const prepareOthers = (s) =>
      METHODS.filter((m) => m !== methodOf(s.mode, s.align_corners))
        .filter((m) => m !== "bed of nails" || Number.isInteger(s.scale_factor))
        .map((method) => () => {
          const out = upsampled(image, method, s.scale_factor);
          outputTable.prepare(region(out, outBoxOf(out.shape, s.zoom, s.scale_factor)), { scale: 1 });
        });
    return (s) => {
      const [r0, c0] = s.zoom;
      const inBox = [r0, c0, r0 + WINDOW, c0 + WINDOW];
      if (imageRows !== s.image || inputShown !== String(inBox)) {
        // (Only the photograph or the zoomed region change the input's picture.)
        if (imageRows !== s.image) image = ops.array(s.image, "image");
        imageRows = s.image;
        inputShown = String(inBox);
        paint(inputCanvas, image, inBox);
      }
      inputTable.show(region(image, inBox), { scale: 1 });
      setText(inputCaption, `input ${image.shape[0]}×${image.shape[1]}; zoomed: rows ${r0}–${r0 + WINDOW - 1}, columns ${c0}–${c0 + WINDOW - 1}`);
      let out;
      try {
        if (s.mode !== "bilinear" && s.mode !== "bed of nails" && s.align_corners) {
          // What the package says to align_corners with a mode that does not interpolate.
          ops.interpolate({ shape: [1, 1, ...image.shape], data: image.data }, {
            scale_factor: s.scale_factor,
            mode: s.mode,
            align_corners: true,
          });
        }
        out = upsampled(image, methodOf(s.mode, s.align_corners), s.scale_factor);
      } catch (error) {
        outputCanvas.getContext("2d").clearRect(0, 0, outputCanvas.width, outputCanvas.height);
        setText(outputCaption, "output");
        setText(note, "");
        throw error;
      }
      const [oh, ow] = out.shape;
      const outBox = outBoxOf(out.shape, s.zoom, s.scale_factor);
      paint(outputCanvas, out, outBox);
      outputTable.show(region(out, outBox), { scale: 1 });
      setText(outputCaption, `output ${oh}×${ow}; zoomed: rows ${outBox[0]}–${outBox[2] - 1}, columns ${outBox[1]}–${outBox[3] - 1}`);
      setText(
        note,
        `${image.shape[0]} × ${pyValue(s.scale_factor)} = ${image.shape[0] * s.scale_factor}: the output has ` +
        `floor of that, ${oh} pixels a side; each output pixel is 1/${pyValue(s.scale_factor)} of an input pixel.`,
      );
      demo.whenSettled(prepareOthers(s));
    };
  },
  // Every method at a whole and a fractional factor, turned into pixels, so that none runs
  // cold on its first use.
  warm(s) {
    const image = ops.array(s.image, "image");
    for (const method of METHODS) {
      for (const factor of [2, 2.5, 4]) {
        if (method === "bed of nails" && !Number.isInteger(factor)) continue;
        const out = upsample(image, method, factor);
        putGreys(out.data, new ImageData(out.shape[1], out.shape[0]));
      }
    }
  },
  // Settings from a URL: the zoomed region inside the photograph.
  valid: (s) => s.zoom.every((v) => Number.isInteger(v) && v >= 0 && v <= s.image.length - WINDOW),
  python(s) {
    const lines = [
      "import numpy as np",
      "from upsampling import interpolate",
      "from upsampling.plots.unpooling import bed_of_nails, sample_image",
      "",
      `x = np.round(sample_image(${s.image.length}), 3)[None, None]  # the page's photograph`,
    ];
    if (s.mode === "bed of nails") {
      lines.push(`bed_of_nails(x, ${pyValue(s.scale_factor)})[0, 0]`);
    } else {
      // align_corners: the package's None unless bilinear or ticked (which nearest refuses).
      const align_corners = s.mode === "bilinear" || s.align_corners ? s.align_corners : null;
      const kwargs = pyKwargs(
        { scale_factor: s.scale_factor, mode: s.mode, align_corners },
        { scale_factor: null, mode: "nearest", align_corners: null },
      );
      lines.push(`${pyCall("interpolate", ["x"], kwargs)}[0, 0]`);
    }
    return lines.join("\n");
  },
});
