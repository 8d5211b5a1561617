// Chapter 1's live demo: a photograph max-pooled 2×2 `depth` times, then upsampled back to
// its size by a fixed rule, computed in the page from the photograph's pixels, which travel
// in the widget state (upsampling.widgets.live_demos_ch124.PoolRestoreDemo). pool_and_restore
// mirrors upsampling.plots.resolution.pool_and_restore with ops.js's max_pool2d and
// interpolate (held to it by tests/upsampling/test_demo_logic_ch124.py).
import { PackageError, interpolate, max_pool2d, repr } from "../ops.js";
import { formatNumber, liveDemo, ops, pyCall, pyKwargs, setText } from "../live_ui.js";
import { WINDOW, putGreys, region, zoomable } from "./photo_zoom.js";

const VIEW = 192; // CSS pixels of each picture: all three cover the same area
export const MODES = ["nearest", "nearest-exact", "bilinear"];
let scratch = null; // a canvas of one pixel per image pixel, scaled up by paint()

/** The package's pool_and_restore: [small, restored] as tensors (H, W). */
export function pool_and_restore(image, depth, { mode = "nearest", align_corners = null } = {}) {
  const { shape } = image;
  if (shape.length !== 2) {
    const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
    throw new PackageError("ValueError", `image must be 2-D, got shape ${tuple}`);
  }
  if (!Number.isInteger(depth)) throw new PackageError("TypeError", `depth must be an int, got ${repr(depth)}`);
  if (depth < 0) throw new PackageError("ValueError", `depth must be non-negative, got ${depth}`);
  let small = { shape: [1, 1, ...shape], data: image.data };
  for (let i = 0; i < depth; i++) small = max_pool2d(small, 2);
  const restored = interpolate(small, { size: shape, mode, align_corners });
  return [small, restored].map((t) => ({ shape: t.shape.slice(2), data: t.data }));
}

/** The package's align_corners for the demo's checkbox: None unless bilinear or ticked. */
const alignOf = (s) => (s.mode === "bilinear" || s.align_corners ? s.align_corners : null);

/** Draws a tensor (H, W) of grey levels in [0, 1] on `canvas`, with the box
 *  [r0, c0, r1, c1] (its pixels, ends excluded) outlined. */
function paint(canvas, image, box) {
  const [h, w] = image.shape;
  const pixels = new ImageData(w, h);
  putGreys(image.data, pixels);
  // The picture is drawn at the canvas's size (not one canvas pixel per image pixel), so
  // that the box is a thin line even around one pixel of a 2×2 map.
  scratch ??= document.createElement("canvas");
  scratch.width = w;
  scratch.height = h;
  scratch.getContext("2d").putImageData(pixels, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  const [sy, sx] = [canvas.height / h, canvas.width / w];
  context.strokeStyle = "#00e5ff";
  context.lineWidth = 2 * (window.devicePixelRatio || 1);
  context.strokeRect(box[1] * sx, box[0] * sy, (box[3] - box[1]) * sx, (box[2] - box[0]) * sy);
}

function meanAbsDifference(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

function mean(data) {
  let sum = 0;
  for (const v of data) sum += v;
  return sum / data.length;
}

/** Three pictures side by side: [canvas, caption] of each of `labels`. */
function figures(demo, labels) {
  const pictures = document.createElement("div");
  pictures.className = "ch124-canvases ch124-trio";
  demo.viewsEl.append(pictures);
  const ratio = window.devicePixelRatio || 1;
  return labels.map((label) => {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = Math.round(VIEW * ratio);
    canvas.style.width = canvas.style.height = `${VIEW}px`;
    canvas.tabIndex = 0;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${label}: click or use the arrow keys to move the zoomed region`);
    const caption = document.createElement("figcaption");
    caption.textContent = label;
    figure.append(canvas, caption);
    pictures.append(figure);
    return [canvas, caption];
  });
}

const side = (n, depth) => Math.floor(n / 2 ** depth); // 2×2 pooling, `depth` times
const span = (from, to) => (from === to - 1 ? `${from}` : `${from}–${to - 1}`);

export default liveDemo({
  setup(demo) {
    demo.root.classList.add("ch124-demo"); // see ch124.css: dark mode
    demo.slider("depth", {
      min: 0,
      max: 5,
      step: 1,
      format: (v) => {
        const n = side(demo.settings.image.length, v);
        return v === 0 ? "0 (no pooling)" : `${v}: ${n}×${n}`;
      },
    });
    demo.select("mode", MODES);
    demo.checkbox("align_corners");
    // Where to look: much detail (an eye, the star of the flag) or almost none.
    const places = { eye: [24, 20], star: [5, 1], background: [30, 60] };
    demo.presets(
      Object.entries(places).map(([label, place]) => ({
        label,
        apply: (s) => ({ zoom: place.map((v) => Math.min(v, s.image.length - WINDOW)) }),
      })),
      { label: "zoom" },
    );

    const shown = figures(demo, ["input", "pooled", "restored"]);
    for (const [canvas] of shown) zoomable(demo, canvas);
    const [[inputCanvas, inputCaption], [pooledCanvas, pooledCaption], [restoredCanvas, restoredCaption]] =
      shown;
    const tables = document.createElement("div");
    tables.className = "ch124-panels";
    demo.viewsEl.append(tables);
    const [inputTable, pooledTable, restoredTable] = ["input", "pooled", "restored"].map((caption) =>
      demo.table(caption, { parent: tables, palette: "count" }),
    );
    const note = demo.note();
    const error = document.createElement("output");
    error.setAttribute("aria-label", "mean |error|");
    const rest = document.createTextNode("");
    note.append("mean |error| of the restored image: ", error, rest);

    let image = null;
    let imageRows = null;
    return (s) => {
      if (imageRows !== s.image) {
        imageRows = s.image;
        image = ops.array(s.image, "image");
      }
      const [h, w] = image.shape;
      const [r0, c0] = s.zoom;
      const box = [r0, c0, r0 + WINDOW, c0 + WINDOW];
      paint(inputCanvas, image, box);
      inputTable.show(region(image, box), { scale: 1 });
      const zoomed = `rows ${span(r0, r0 + WINDOW)}, columns ${span(c0, c0 + WINDOW)}`;
      setText(inputCaption, `input ${h}×${w}; zoomed: ${zoomed}`);
      let small, restored;
      try {
        [small, restored] = pool_and_restore(image, s.depth, { mode: s.mode, align_corners: alignOf(s) });
      } catch (failure) {
        for (const canvas of [pooledCanvas, restoredCanvas]) {
          canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
        }
        setText(pooledCaption, "pooled");
        setText(restoredCaption, "restored");
        setText(error, "");
        rest.data = "";
        delete error.dataset.value;
        throw failure;
      }
      // The pooled cells that cover the zoomed region: each covers 2**depth input pixels.
      const f = 2 ** s.depth;
      const [sh, sw] = small.shape;
      const cover = [Math.floor(r0 / f), Math.floor(c0 / f), 0, 0];
      cover[2] = Math.min(sh, Math.floor((r0 + WINDOW - 1) / f) + 1);
      cover[3] = Math.min(sw, Math.floor((c0 + WINDOW - 1) / f) + 1);
      paint(pooledCanvas, small, cover);
      pooledTable.show(region(small, cover), { scale: 1 });
      const times = s.depth === 1 ? "once" : `${s.depth} times`;
      setText(
        pooledCaption,
        (s.depth === 0 ? "pooled: no pooling" : `pooled 2×2 ${times}`) +
        `: ${sh}×${sw}; zoomed: rows ${span(cover[0], cover[2])}, columns ${span(cover[1], cover[3])}`,
      );
      paint(restoredCanvas, restored, box);
      restoredTable.show(region(restored, box), { scale: 1 });
      const rule = s.mode + (alignOf(s) ? ", align_corners" : "");
      setText(restoredCaption, `restored: ${rule}, back to ${h}×${w}; zoomed as the input`);
      const value = meanAbsDifference(restored.data, image.data);
      error.dataset.value = String(value);
      setText(error, formatNumber(value));
      rest.data =
        s.depth === 0
          ? ` over its ${h * w} pixels: without pooling, the image comes back as it was.`
          : ` over its ${h * w} pixels. The input's mean is ${formatNumber(mean(image.data))}, the ` +
            `pooled map's ${formatNumber(mean(small.data))}: max pooling keeps the brightest value of each window.`;
    };
  },
  // Every rule at every depth, turned into pixels, so that none runs cold on its first use.
  warm(s) {
    const image = ops.array(s.image, "image");
    for (let depth = 0; depth <= 5; depth++) {
      for (const mode of MODES) {
        const align_corners = mode === "bilinear" ? true : null;
        for (const t of pool_and_restore(image, depth, { mode, align_corners })) {
          putGreys(t.data, new ImageData(t.shape[1], t.shape[0]));
        }
      }
    }
  },
  // Settings from a URL: a whole depth, and the zoomed region inside the photograph.
  valid: (s) =>
    Number.isInteger(s.depth) && s.zoom.every((v) => Number.isInteger(v) && v >= 0 && v <= s.image.length - WINDOW),
  python(s) {
    const kwargs = {
      depth: String(s.depth),
      ...pyKwargs({ mode: s.mode, align_corners: alignOf(s) }, { mode: "nearest", align_corners: null }),
    };
    return [
      "import numpy as np",
      "from upsampling.plots.resolution import pool_and_restore",
      "from upsampling.plots.unpooling import sample_image",
      "",
      `image = np.round(sample_image(${s.image.length}), 3)  # the page's photograph`,
      `small, restored = ${pyCall("pool_and_restore", ["image"], kwargs)}`,
      "print(small.shape, np.abs(restored - image).mean())  # the mean |error|",
    ].join("\n");
  },
});
