// What the two photograph demos (upsample_photo.js, pool_restore.js) share: the zoomed
// region of WINDOW × WINDOW input pixels whose numbers are shown as tables, moved by a
// click on a picture or by the arrow keys on a focused one (settings.zoom: its top-left).

export const WINDOW = 4; // input pixels per side of the zoomed region

/**
 * Writes grey levels in [0, 1] (a Float64Array; clipped, then rounded to 0..255) into
 * `pixels` (an ImageData of as many pixels) as opaque grey. One 32-bit store a pixel: run
 * on a large picture for the first time, before the engine has compiled it, this loop is
 * most of a redraw, so it does as little as it can (both demos also warm it up).
 */
export function putGreys(values, pixels) {
  const words = new Uint32Array(pixels.data.buffer); // little-endian: R, G, B, A bytes
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const v = x > 0 ? (x < 1 ? Math.round(255 * x) : 255) : 0; // NaN gives 0, as a byte would
    words[i] = 0xff000000 | (v * 0x010101);
  }
}

/** Rows r0..r1 and columns c0..c1 (ends excluded) of a tensor (H, W), as nested arrays. */
export function region(image, [r0, c0, r1, c1]) {
  const w = image.shape[1];
  const rows = [];
  for (let r = r0; r < r1; r++) {
    const row = [];
    for (let c = c0; c < c1; c++) row.push(image.data[r * w + c]);
    rows.push(row);
  }
  return rows;
}

/** Clicks and arrow keys on `canvas` move the demo's zoomed region (settings.zoom). */
export function zoomable(demo, canvas) {
  const size = () => demo.settings.image.length;
  const moveTo = (r, c) => {
    const top = size() - WINDOW;
    const zoom = [Math.max(0, Math.min(top, r)), Math.max(0, Math.min(top, c))];
    if (zoom[0] !== demo.settings.zoom[0] || zoom[1] !== demo.settings.zoom[1]) demo.set({ zoom });
  };
  canvas.addEventListener("click", (event) => {
    const rect = canvas.getBoundingClientRect();
    const r = Math.floor(((event.clientY - rect.top) / rect.height) * size());
    const c = Math.floor(((event.clientX - rect.left) / rect.width) * size());
    moveTo(r - WINDOW / 2, c - WINDOW / 2);
  });
  canvas.addEventListener("keydown", (event) => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    moveTo(demo.settings.zoom[0] + move[0], demo.settings.zoom[1] + move[1]);
  });
}
