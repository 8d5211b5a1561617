// Shared front-end of the live demos (upsampling/widgets/live.py explains how a demo is
// declared and how this file and ops.js reach the page).
//
// A demo's module default-exports liveDemo({setup, python}); liveDemo returns the
// anywidget front-end ({render}). setup(demo) runs once per view: it builds the controls
// and the views with the builders below and returns redraw(settings), a synchronous
// function that computes with ops.js and fills the views. Every change of a setting (a
// control, an edited cell, a preset, reset, the step control, or Python in JupyterLab)
// goes through demo.set(patch): the settings are updated, the controls show the new
// values, redraw runs, the Python call is rewritten and the settings are saved to the
// model (a no-op without a kernel). A PackageError thrown by redraw (ops.js's ValueError
// or TypeError, with the package's own message) is shown to the reader and the result
// tables are emptied; any other error is a bug and goes to the console.
//
// Builders (all return an object whose `el` is the element; `parent` puts it elsewhere):
//   demo.integer(key, {min, max, axis, get, set})  <input type=number aria-label=key>
//   demo.axes([{key, min, max, get, set}, ...])    the same keys for height and width,
//                                                  in two groups labelled "height" and
//                                                  "width"; settings[key] is [h, w];
//                                                  min/max may be [for h, for w]; get(s)
//                                                  gives [h, w], set(v, axis, s) a patch
//   demo.select(key, options, {get, set})          <select aria-label=key>
//   demo.checkbox(key)                             <input type=checkbox aria-label=key>
//   demo.slider(key, {min, max, step, format})     <input type=range aria-label=key>
//   demo.stepper({count, describe})                the `step` control (range + play)
//   demo.presets([{label, apply}])                 buttons; apply(settings) -> patch
//   demo.grid(key, {caption})                      an editable table bound to a 2-D
//                                                  array setting (cells are text boxes);
//                                                  .mark(f) classes cells (f(r, c))
//   demo.table(caption, {palette, hideCaption,     a number table drawn as a heat map:
//                        picture})                 .show(array, {mark}) / .clear(); an
//                                                  array of more than PICTURE_FROM cells
//                                                  is drawn on a canvas and its table kept
//                                                  out of sight (picture: false, never;
//                                                  "always", at any size)
//   demo.panel(heading, {row, alignEnd, scroll})   a box for views, in the views area
//                                                  (a column; side by side with row;
//                                                  bottoms aligned with alignEnd; rows
//                                                  that scroll sideways together with
//                                                  scroll; any other wide view scrolls
//                                                  by itself)
//   demo.note()                                    a paragraph for text the redraw writes
//   demo.whenSettled([task, ...])                  runs the tasks, one per idle period of
//                                                  the page, once the settings have stayed
//                                                  unchanged for SETTLED_MS; a change
//                                                  drops those not run (see Warming up)
// `min`, `max` and `count` may be functions of the settings (ranges that depend on other
// settings); `get(settings)` / `set(value, settings) -> patch` bind a control to
// something other than settings[key] (say input_size to the shape of the input grid).
//
// The Python call: python(settings) returns its text; pyCall, pyKwargs (the arguments
// that differ from the package's defaults), pyArg, pyValue and pyArray write it.
//
// Settings in the URL (static book only; settings_hash.js): a demo opens with the
// settings of its part of the page's hash, each one accepted if every control could show
// it (its range, given the others) and spec.valid(settings), if the demo declares it for
// settings no control bounds, agrees; every change is written back, reset removes it.
//
// Warming up: warm(settings), if the demo declares it, runs while the page is idle after
// the first draw. It computes what later control changes will (another mode, another
// size) without drawing, so that the engine has compiled that code before the reader's
// first change: run for the first time, it is several milliseconds slower. A demo that can
// tell what the reader will likely ask for next (upsample-photo: another method at the same
// factor) prepares it with demo.whenSettled, and table.prepare(array) makes the tiles a
// picture of that array would need (a few milliseconds for hundreds of new numbers).

import * as ops from "./ops.js";
import {
  decodeSettings,
  encodeSettings,
  hashPart,
  inStaticBook,
  scrollToLinkedDemo,
  withPart,
} from "./settings_hash.js";

export { ops };
// The parity test in the browser runs the shipped module through this handle.
globalThis.upsamplingOps = ops;

const AXES = ["height", "width"];
let counter = 0;
/** How long the settings must stay unchanged before they are written to the URL. */
const URL_DELAY_MS = 250;
/** How long they must stay unchanged before a demo prepares what may come next. */
const SETTLED_MS = 250;

/** Runs `task` when the page is idle (soon, where the browser cannot say so). */
function whenIdle(task) {
  (globalThis.requestIdleCallback ?? ((f) => setTimeout(f, 200)))(task);
}

/** The URL's hash without its "#". */
function decodeHash(hash) {
  return hash.replace(/^#/, "");
}

// --- Numbers and Python text --------------------------------------------------------------

/** How a number is written in a table cell: integers exactly, others to 4 digits. */
export function formatNumber(v) {
  if (v === 0) return "0";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

/** A value as Python source: ints, floats (Python's repr), lists, None, True/False. */
export function pyValue(v) {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : ops.pyFloat(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyValue).join(", ")}]`;
  throw new TypeError(`no Python text for ${v}`);
}

/**
 * An argument as the reader would write it: one value for a list whose values are all
 * equal (2 for [2, 2]), a tuple for a pair ((2, 3)), a list otherwise.
 */
export function pyArg(v) {
  if (!Array.isArray(v)) return pyValue(v);
  if (v.length && v.every((x) => x === v[0]) && !Array.isArray(v[0])) return pyValue(v[0]);
  return v.length === 2 ? `(${pyValue(v[0])}, ${pyValue(v[1])})` : pyValue(v);
}

/**
 * The keyword arguments of a call of the package, as Python text for pyCall: those of
 * `values` that differ from the function's defaults, in the order of `defaults` (each
 * argument's default in the package; a list equals a one-value default when all its
 * values do: stride [1, 1] is the default stride=1). `write(value)` writes a value
 * (pyArg by default). pyKwargs({stride: [2, 3], padding: [0, 0]}, {stride: 1, padding: 0})
 * gives {stride: "(2, 3)"}.
 */
export function pyKwargs(values, defaults, write = pyArg) {
  const kwargs = {};
  for (const [arg, fallback] of Object.entries(defaults)) {
    const v = values[arg];
    const same =
      Array.isArray(v) && !Array.isArray(fallback)
        ? v.length > 0 && v.every((x) => x === fallback)
        : JSON.stringify(v) === JSON.stringify(fallback);
    if (!same) kwargs[arg] = write(v);
  }
  return kwargs;
}

/** A call as Python source; keyword values are already Python text. Long calls wrap. */
export function pyCall(name, args, kwargs = {}) {
  const parts = [...args, ...Object.entries(kwargs).map(([k, v]) => `${k}=${v}`)];
  const flat = `${name}(${parts.join(", ")})`;
  if (flat.length <= 88) return flat;
  return `${name}(\n${parts.map((p) => `    ${p},`).join("\n")}\n)`;
}

/** A 2-D list of numbers as numpy source, one row per line when it is long. */
export function pyArray(rows, suffix = "") {
  const flat = `np.array(${pyValue(rows)}, dtype=float)${suffix}`;
  if (flat.length <= 80) return flat;
  const body = rows.map((r) => `        ${pyValue(r)},`).join("\n");
  return `np.array(\n    [\n${body}\n    ],\n    dtype=float,\n)${suffix}`;
}

/** A tensor's last two axes as nested arrays (the first plane of a batch). Plain indexed
 *  loops, here and in the other per-cell loops of a redraw: Array.from and for...of make
 *  an iterator result per value until the engine optimises them away, 40-70 KB of garbage
 *  a change for a 44×44 array. */
export function plane(t) {
  if (Array.isArray(t)) return t;
  const [h, w] = t.shape.slice(-2);
  const rows = new Array(h);
  for (let r = 0; r < h; r++) {
    const row = new Array(w);
    for (let c = 0; c < w; c++) row[c] = t.data[r * w + c];
    rows[r] = row;
  }
  return rows;
}

/** A rows × cols array filled by f(r, c). */
export function makeRows(rows, cols, f) {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => f(r, c)));
}

/** `rows` resized to h × w, keeping the values that still fit and filling with `fill`. */
export function resized(rows, h, w, fill = 1) {
  return makeRows(h, w, (r, c) => (r < rows.length && c < rows[r].length ? rows[r][c] : fill));
}

/** The [height, width] of a rows array. */
export const shapeOf = (rows) => [rows.length, rows[0].length];

/**
 * An entry of `demo.axes` whose value is the shape of the array setting `field`, up to `max`
 * per axis: a new size resizes the array (see `resized`, filled with `fill`).
 */
export function shapeAxis(key, field, max, fill = 1) {
  return {
    key,
    min: 1,
    max,
    get: (s) => shapeOf(s[field]),
    set: (v, axis, s) => {
      const [h, w] = shapeOf(s[field]);
      return { [field]: resized(s[field], axis === 0 ? v : h, axis === 1 ? v : w, fill) };
    },
  };
}

// --- Colours ------------------------------------------------------------------------------

// Heat maps are translucent colours over the page's own background, so they read in light
// and dark mode; the text keeps the theme's colour. A cell gets one of LEVELS classes
// (live.css holds their colours): a class costs the browser less than an inline style,
// and a redraw writes only the cells whose class changes.
const LEVELS = 8;
const level = (fraction) => Math.max(1, Math.min(LEVELS, Math.ceil(fraction * LEVELS)));
// The class names of each hue by level (1 to LEVELS), made once rather than per cell.
const classes = (prefix) => Array.from({ length: LEVELS + 1 }, (_, i) => `${prefix}${i}`);
const [POSITIVE, NEGATIVE, COUNT] = ["lv-p", "lv-n", "lv-c"].map(classes);
const PALETTES = {
  // Signed values: orange above zero, blue below, none at zero.
  signed: (v, scale) =>
    v === 0 || !(scale > 0) ? "" : v > 0 ? POSITIVE[level(v / scale)] : NEGATIVE[level(-v / scale)],
  // Marks: any number gets the same light tint (taps, indices: where, not how much).
  mark: () => "lv-m",
  // Counts: one hue, darker for more.
  count: (v, scale) => (v <= 0 || !(scale > 0) ? "" : COUNT[level(v / scale)]),
};

function scaleOf(rows) {
  let m = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let c = 0; c < row.length; c++) if (row[c] !== null) m = Math.max(m, Math.abs(row[c]));
  }
  return m;
}

// --- DOM helpers --------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/**
 * Writes `text` into `el` only when it differs, into its one text node when it has one:
 * a redraw rewrites the same captions and readouts again and again, and a new text node
 * is laid out and shaped from scratch, a write of the same text still invalidates layout.
 */
export function setText(el, text) {
  const node = el.firstChild;
  if (node !== null && node === el.lastChild && node.nodeType === 3 /* a text node */) {
    if (node.data !== text) node.data = text;
  } else if (el.textContent !== text) el.textContent = text;
}

/** Sets attribute `name` only when it changes (a write of the same value still costs the
 *  browser a style and layout check of the element). */
export function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * A sketch of an element for morph: its tag, its attributes (as strings) and its children
 * (sketches, or strings for text; `text` gives one), in the SVG namespace with `ns`. A
 * plain object, not an element: a view sketched afresh on every change is young garbage
 * the collector sweeps at little cost, where detached elements (~250 a change in the size
 * tracker) waited for a full collection, a pause of 6-11 ms inside some later change.
 */
export function sketch(tag, attrs = {}, text, ns = null) {
  const strings = {};
  for (const name in attrs) strings[name] = String(attrs[name]);
  return { tag, ns, attrs: strings, children: text === undefined || text === "" ? [] : [String(text)] };
}

const HTML_NS = "http://www.w3.org/1999/xhtml";

/** The element (or text node) a sketch describes. */
function built(node) {
  if (typeof node === "string") return document.createTextNode(node);
  const el = node.ns ? document.createElementNS(node.ns, node.tag) : document.createElement(node.tag);
  for (const name in node.attrs) el.setAttribute(name, node.attrs[name]);
  for (const child of node.children) el.append(built(child));
  return el;
}

/**
 * Gives `parent` the children that `nodes` sketch (see sketch; as replaceChildren would),
 * keeping every node already there that is the same kind of node in the same place: its
 * attributes and text are brought up to date and its children morphed in turn. A demo can
 * then sketch its view afresh on every change (simple code), while the browser lays out
 * and paints only what changed: a text node or an attribute kept costs nothing, a new one
 * is laid out and shaped from scratch.
 */
export function morph(parent, ...nodes) {
  const old = parent.childNodes;
  nodes.forEach((node, i) => {
    const kept = old[i];
    if (kept === undefined) parent.append(built(node));
    else if (typeof node === "string") {
      if (kept.nodeType !== 3 /* text */) kept.replaceWith(built(node));
      else if (kept.data !== node) kept.data = node;
    } else if (kept.localName !== node.tag || kept.namespaceURI !== (node.ns ?? HTML_NS)) {
      kept.replaceWith(built(node));
    } else {
      let count = 0;
      for (const name in node.attrs) {
        setAttr(kept, name, node.attrs[name]);
        count += 1;
      }
      // Attributes the sketch does not have, looked for only when there are some.
      if (kept.attributes.length > count) {
        for (const { name } of [...kept.attributes]) {
          if (!(name in node.attrs)) kept.removeAttribute(name);
        }
      }
      morph(kept, ...node.children);
    }
  });
  while (old.length > nodes.length) parent.lastChild.remove();
}

const evaluate = (value, settings) => (typeof value === "function" ? value(settings) : value);

// --- Tables -------------------------------------------------------------------------------

/** Arrays with more cells than this are drawn on a canvas (unless the table asks for no
 *  picture). A visible table of a few hundred cells whose numbers change cost the browser
 *  more than everything else a redraw does: a 16×16 table ~10 ms of style, layout and
 *  paint a change, its picture ~1 ms. */
const PICTURE_FROM = 64;
/** Tables with more cells than this keep their previous shape's <tbody> aside (NumberTable.show). */
const SWAP_FROM = 64;
// The heat-map classes' colours (as in live.css), for the canvas.
const ALPHAS = [0.12, 0.2, 0.28, 0.36, 0.44, 0.52, 0.62, 0.72];
const COLOURS = { "lv-m": "rgba(120, 80, 200, 0.22)" };
ALPHAS.forEach((a, i) => {
  COLOURS[`lv-p${i + 1}`] = `rgba(230, 120, 30, ${a})`;
  COLOURS[`lv-n${i + 1}`] = `rgba(50, 130, 210, ${a})`;
  COLOURS[`lv-c${i + 1}`] = `rgba(120, 80, 200, ${a - 0.02})`;
});

// The same colours as [r, g, b, a] bytes ("cropped" cells are shaded grey, mixed with
// their colour, if any).
const RGBA = { cropped: [128, 128, 128, 56] };
for (const [name, css] of Object.entries(COLOURS)) {
  const [r, g, b, a] = css.match(/[\d.]+/g).map(Number);
  RGBA[name] = [r, g, b, Math.round(a * 255)];
}
const mix = (p, q) => p.map((v, i) => Math.round((v + q[i]) / 2));
const GRID_INK = "rgba(128, 128, 128, 0.45)";
const MARK_INK = "#d81b60";

// A picture is made of tiles, one per cell: its colour, its number, its top and left grid
// lines and its outline, all inside the cell. A tile is made once per page and kept as
// pixels; a picture's frame is composed of them in memory (a cell's pixels depend on its
// own tile only, so a redraw composes just the cells that changed) and put on its canvas in
// one call. Copying tiles onto the canvas one by one (drawImage) cost the browser ~4.5 µs a
// cell when it came to paint them: 9 ms for a picture of 44×44 cells, against 1.5 ms
// composed and put at once. Tiles are kept in a few large pages of pixels (one allocation
// for ~2,000 tiles: a buffer per tile made the garbage collector's work grow with every new
// number shown).
//
// A new tile is made in memory too: the tile of its colour with no number, with the
// glyphs of its number's characters blended over it. Only those parts are drawn on a
// canvas (a few dozen a page, each once); a tile drawn whole on a canvas and read back cost
// ~25 µs (fillRect, fillText, getImageData): 7 ms when a change showed 256 new numbers.
// Outlined tiles, and numbers wider than their cell (squeezed by fillText), still are.
const PAGE_PIXELS = 1 << 20;
const PAGES = 6; // beyond this many pages (4 MB each), the tiles start again
const TILES = { look: "", where: new Map(), pages: [], free: PAGE_PIXELS, glyphs: new Map() };
const PHASES = 4; // the sub-pixel positions a glyph is drawn at (quarters of a pixel)
let scratch = null; // the canvas tiles, and the parts of tiles, are drawn on

/** The tiles drawn with this ratio, ink and font: none if they changed, or if they fill
 *  too many pages (only between redraws: a redraw's tiles stay until it ends). */
function tilesFor(look) {
  if (TILES.look !== look || TILES.pages.length > PAGES) {
    const glyphs = TILES.look === look ? TILES.glyphs : new Map();
    Object.assign(TILES, { look, where: new Map(), pages: [], free: PAGE_PIXELS, glyphs });
  }
  return TILES;
}

/** Where the tile of a cell cw pixels wide showing `text` in `colour` with `mark` is kept:
 *  [page, offset] (rows of cw pixels from there), undefined if it was not made. The index
 *  is nested maps, looked up without making a key string (a redraw looks up every cell
 *  that changed: a string each was ~300 bytes of garbage). */
function tileAt(tiles, cw, text, colour, mark) {
  return tiles.where.get(cw)?.get(colour)?.get(mark)?.get(text);
}

function keepTile(tiles, cw, text, colour, mark, place) {
  let map = tiles.where;
  for (const key of [cw, colour, mark]) {
    if (!map.has(key)) map.set(key, new Map());
    map = map.get(key);
  }
  map.set(text, place);
}

/** Whether a cell's marks outline it: every mark but "live-cropped" (which shades it). */
const outlines = (mark) => mark.split(" ").some((name) => name && name !== "live-cropped");

/** Makes the tiles `needed` ([text, colour, mark] each) that are not made yet, each once. */
function makeTiles(tiles, size, needed) {
  const wanted = new Map();
  for (const [text, colour, mark] of needed) {
    if (!tileAt(tiles, size.cw, text, colour, mark)) wanted.set(`${text}|${colour}|${mark}`, [text, colour, mark]);
  }
  if (wanted.size) drawTiles(tiles, size, [...wanted.values()]);
}

/** Makes the tiles `wanted` ([text, colour, mark] each, none made yet) and keeps their
 *  pixels (see tileAt). */
function drawTiles(tiles, size, wanted) {
  const { cw, ch } = size;
  const onCanvas = [];
  const composed = [];
  const backs = new Map(); // the empty tiles the numbers are written on, to be made
  for (const tile of wanted) {
    const [text, colour, mark] = tile;
    const run = text && !outlines(mark) ? glyphRun(tiles, size, text) : null;
    if (!run) {
      onCanvas.push(tile);
      continue;
    }
    composed.push([tile, run]);
    if (!tileAt(tiles, cw, "", colour, mark)) backs.set(`${colour}|${mark}`, ["", colour, mark]);
  }
  if (onCanvas.length || backs.size) drawOnCanvas(tiles, size, [...onCanvas, ...backs.values()]);
  for (const [[text, colour, mark], run] of composed) {
    const [page, at] = newTile(tiles, cw * ch);
    const [backPage, backAt] = tileAt(tiles, cw, "", colour, mark);
    page.set(backPage.subarray(backAt, backAt + cw * ch), at);
    for (let k = 0; k < run.length; k++) blendGlyph(run[k][0], run[k][1], page, at, cw);
    keepTile(tiles, cw, text, colour, mark, [page, at]);
  }
}

/** Room for a tile of n pixels in the tiles' pages: [page, offset]. */
function newTile(tiles, n) {
  if (tiles.free + n > PAGE_PIXELS) {
    tiles.pages.push(new Uint32Array(PAGE_PIXELS));
    tiles.free = 0;
  }
  const at = tiles.free;
  tiles.free += n;
  return [tiles.pages[tiles.pages.length - 1], at];
}

/** Where each character of `text` goes in a tile, centred as fillText centres it:
 *  [spots, x] pairs (the glyph's inked pixels at the pen's sub-pixel position, x its
 *  left column in the tile); null if the text is wider than fillText would draw it
 *  unsqueezed (cw less the margins). */
function glyphRun(tiles, size, text) {
  // Indexed, as the redraw's other per-cell loops (see plane); a number's characters are
  // one UTF-16 unit each.
  const run = new Array(text.length);
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    run[i] = glyphOf(tiles, size, text[i]);
    width += run[i].advance;
  }
  if (width > size.cw - 2 * size.ratio) return null;
  let pen = size.cw / 2 - width / 2;
  for (let i = 0; i < run.length; i++) {
    const g = run[i];
    const quarters = Math.round(pen * PHASES); // the pen, to the nearest sub-pixel position
    pen += g.advance;
    const phase = ((quarters % PHASES) + PHASES) % PHASES;
    run[i] = [g.phases[phase], (quarters - phase) / PHASES - g.pad];
  }
  return run;
}

/** A character drawn in the ink, at each sub-pixel position, on a transparent cell as
 *  high as a tile: {advance, pad, phases}; a phase is its inked pixels, (y, x, RGBA word)
 *  triples, x from the cell's left, where the pen is at pad. */
function glyphOf(tiles, { ch, ratio, ink, font }, c) {
  let glyph = tiles.glyphs.get(c);
  if (glyph) return glyph;
  const advance = scratchContext(font, ratio, 1, 1).measureText(c).width;
  const pad = Math.ceil(3 * ratio); // room for the parts of a glyph outside its advance
  const width = Math.ceil(advance) + 2 * pad + 1;
  const g = scratchContext(font, ratio, width * PHASES, ch);
  g.fillStyle = ink;
  for (let k = 0; k < PHASES; k++) g.fillText(c, k * width + pad + k / PHASES, ch / 2 + ratio / 2);
  const all = new Uint32Array(g.getImageData(0, 0, width * PHASES, ch).data.buffer);
  const phases = [];
  for (let k = 0; k < PHASES; k++) {
    const spots = [];
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < width; x++) {
        const word = all[y * width * PHASES + k * width + x];
        if (word >>> 24) spots.push(y, x, word | 0);
      }
    }
    phases.push(Int32Array.from(spots));
  }
  glyph = { advance, pad, phases };
  tiles.glyphs.set(c, glyph);
  return glyph;
}

/** The scratch canvas at w × h pixels (cleared), set to draw text as drawTile does. */
function scratchContext(font, ratio, w, h) {
  scratch ??= document.createElement("canvas");
  scratch.width = w; // (resizing also clears the canvas and its settings)
  scratch.height = h;
  const g = scratch.getContext("2d", { willReadFrequently: true });
  g.font = font.replace("11px", `${Math.round(11 * ratio)}px`);
  g.textAlign = "left";
  g.textBaseline = "middle";
  return g;
}

/** Blends a glyph's inked pixels (non-premultiplied RGBA) over a tile's (rows of cw
 *  pixels from `at` in `page`) from column x, as a canvas draws over what is there
 *  (source-over); what falls outside the tile is left out. */
function blendGlyph(spots, x, page, at, cw) {
  for (let j = 0; j < spots.length; j += 3) {
    const column = x + spots[j + 1];
    if (column < 0 || column >= cw) continue;
    const i = at + spots[j] * cw + column;
    const s = spots[j + 2];
    const d = page[i];
    const sa = s >>> 24;
    const k = ((d >>> 24) * (255 - sa)) / 255; // the backdrop's share
    const oa = sa + k;
    const r = ((s & 255) * sa + (d & 255) * k) / oa;
    const g = (((s >>> 8) & 255) * sa + ((d >>> 8) & 255) * k) / oa;
    const b = (((s >>> 16) & 255) * sa + ((d >>> 16) & 255) * k) / oa;
    page[i] = (Math.round(oa) << 24) | (Math.round(b) << 16) | (Math.round(g) << 8) | Math.round(r);
  }
}

/** Draws the tiles `wanted` whole on the scratch canvas and keeps their pixels. */
function drawOnCanvas(tiles, size, wanted) {
  const { cw, ch, ratio, font } = size;
  const across = Math.max(1, Math.min(wanted.length, Math.floor(4096 / cw)));
  const g = scratchContext(font, ratio, across * cw, Math.ceil(wanted.length / across) * ch);
  g.textAlign = "center";
  const at = (k) => [(k % across) * cw, Math.floor(k / across) * ch];
  wanted.forEach(([text, colour, mark], k) => drawTile(g, ...at(k), size, text, colour, mark));
  const width = scratch.width;
  const all = new Uint32Array(g.getImageData(0, 0, width, scratch.height).data.buffer);
  wanted.forEach(([text, colour, mark], k) => {
    const [page, offset] = newTile(tiles, cw * ch);
    const [x, y] = at(k);
    copyRows(all, y * width + x, width, page, offset, cw, cw, ch);
    keepTile(tiles, cw, text, colour, mark, [page, offset]);
  });
}

/** Copies a block of w × h pixels (rows `fromStride` and `toStride` apart). */
function copyRows(from, start, fromStride, to, at, toStride, w, h) {
  for (let y = 0; y < h; y++) {
    const f = start + y * fromStride;
    const t = at + y * toStride;
    for (let x = 0; x < w; x++) to[t + x] = from[f + x];
  }
}

/** Draws a cell at (x, y) of a canvas: colour, number, top and left grid lines, outline. */
function drawTile(g, x, y, { cw, ch, ratio, ink }, text, colour, mark) {
  let rgba = colour ? RGBA[colour] : null;
  if (mark.split(" ").includes("live-cropped")) rgba = rgba ? mix(rgba, RGBA.cropped) : RGBA.cropped;
  if (rgba) {
    g.fillStyle = `rgba(${rgba[0]}, ${rgba[1]}, ${rgba[2]}, ${rgba[3] / 255})`;
    g.fillRect(x, y, cw, ch);
  }
  if (text) {
    g.fillStyle = ink;
    g.fillText(text, x + cw / 2, y + ch / 2 + ratio / 2, cw - 2 * ratio);
  }
  // One path: where the lines cross, the pixel is inked once.
  g.strokeStyle = GRID_INK;
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(x, y + 0.5);
  g.lineTo(x + cw, y + 0.5);
  g.moveTo(x + 0.5, y);
  g.lineTo(x + 0.5, y + ch);
  g.stroke();
  if (outlines(mark)) {
    // Inside the cell, clear of its grid lines: from x + 1 to the next cell's line.
    g.strokeStyle = MARK_INK;
    g.lineWidth = 2 * ratio;
    g.strokeRect(x + 1 + ratio, y + 1 + ratio, cw - 1 - 2 * ratio, ch - 1 - 2 * ratio);
  }
}

// The pictures' ink and font, read from the page's style once and again only after the
// theme changes: reading a style after a redraw has written to the page makes the browser
// recompute the style of every changed element first (tens of milliseconds for a large
// table). Demo.set reads it, if stale, before it writes anything.
const STYLE = { ink: "", font: "", stale: true };
const THEMED = new Set(); // the demos to redraw when the theme changes

function pictureStyle(element) {
  if (STYLE.stale && element?.isConnected) {
    const style = getComputedStyle(element);
    STYLE.ink = style.color;
    STYLE.font = `11px ${style.fontFamily}`;
    STYLE.stale = false;
  }
  return STYLE;
}

function watchTheme(demo) {
  if (!THEMED.size && typeof MutationObserver !== "undefined") {
    const changed = () => {
      const { ink, font } = STYLE;
      STYLE.stale = true;
      const canvas = [...THEMED].find((d) => d.picture.canvas.isConnected)?.picture.canvas;
      pictureStyle(canvas);
      if (STYLE.ink === ink && STYLE.font === font) return;
      for (const d of THEMED) {
        if (d.root.isConnected) d.set({}, null, { save: false });
        else THEMED.delete(d);
      }
    };
    // The book's theme switch (data-theme on <html>), JupyterLab's (attributes of <body>)
    // and the system's dark mode.
    const observer = new MutationObserver(changed);
    const attributeFilter = ["data-theme", "data-mode", "data-jp-theme-name"];
    observer.observe(document.documentElement, { attributes: true, attributeFilter });
    if (document.body) observer.observe(document.body, { attributes: true, attributeFilter });
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", changed);
  }
  THEMED.add(demo);
}

/** A table's cells drawn on a canvas: colours, numbers, marks (outlined; cropped shaded). */
class CanvasPicture {
  constructor(caption, hideCaption) {
    this.label = h("div", { class: "live-array-label", "aria-hidden": "true", text: caption });
    this.label.hidden = true;
    if (hideCaption) this.label.classList.add("live-visually-hidden");
    // The canvas keeps the size of the largest picture it drew (resized, a canvas costs
    // the browser a new bitmap, ~3 ms at 44×44 cells, and as much to hand it to the
    // compositor); a box around it crops it to the cells of the picture shown.
    this.canvas = h("canvas", { class: "live-picture", "aria-hidden": "true" });
    this.crop = h("div", { class: "live-picture-crop" }, this.canvas);
    this.crop.hidden = true;
    // Two frames (see newFrame), the one on the canvas first: a control moved back to its
    // previous value finds the picture of that value in the other one (only the cells
    // changed since are composed); a picture of another shape starts from the cells it
    // shares with the frame it is composed in.
    this.frames = [];
    this.onCanvas = null; // the frame the canvas shows
  }

  readStyle() {
    ({ ink: this.ink, font: this.font } = pictureStyle(this.canvas));
  }

  /** Draws `cells` (NumberTable's: {label, colour, mark}, `chars` the longest label's
   *  length) or, with null, hides the picture. */
  show(cells, chars) {
    this.label.hidden = this.crop.hidden = !cells;
    if (this.blanked) {
      this.crop.classList.remove("live-veiled");
      this.blanked = false;
    }
    if (!cells) return;
    const [size, look] = cellSize(chars, this);
    const rows = cells.length;
    const cols = rows ? cells[0].length : 0;
    const frame = this.frameFor(`${look}|${size.cw}`, rows, cols, size);
    const dirty = this.compose(frame, cells, rows, cols, tilesFor(look), size);
    this.put(frame, rows, cols, size, [dirty]);
  }

  /** Shows nothing in the picture's place, which it keeps (for a refused setting: the
   *  next one most likely draws a picture of that size, and hiding it, then showing it
   *  again, moved what follows up and back down, laid out and painted twice). */
  blank() {
    this.crop.classList.add("live-veiled"); // (live.css: out of sight, its place kept)
    this.blanked = true;
  }

  /** Makes the tiles that show(cells, chars) would need and are not made yet. */
  prepare(cells, chars) {
    const [size, look] = cellSize(chars, this);
    makeTiles(tilesFor(look), size, cells.flat().map((c) => [c.label, c.colour, c.mark]));
  }

  /** The frame to compose rows × cols cells of this look in (put first in this.frames):
   *  the one last composed at that shape, else the spare made a copy of the shown one
   *  (a new shape often keeps most cells: output_padding adds a row), else a new one. */
  frameFor(look, rows, cols, { cw, ch }) {
    const frames = this.frames.filter((f) => f.look === look && f.rows >= rows && f.cols >= cols);
    const [shown, other] = frames;
    const same = (f) => f?.shape[0] === rows && f.shape[1] === cols;
    if (same(shown) && shown === this.frames[0]) return shown;
    let frame = same(shown) ? shown : same(other) ? other : null;
    if (!frame) {
      const [r, c] = shown ? [shown.rows, shown.cols] : [Math.max(rows, 1), Math.max(cols, 1)];
      frame = other ?? newFrame(look, r, c, cw, ch);
      if (shown) copyFrame(shown, frame);
    }
    this.frames = [frame, ...frames.filter((f) => f !== frame)].slice(0, 2);
    return frame;
  }

  /** Composes the cells that differ from the frame's; returns the rectangle of cells
   *  changed, [r0, c0, r1, c1] (empty if none: see include). */
  compose(frame, cells, rows, cols, tiles, size) {
    const { cw, ch } = size;
    const { labels, colours, marks } = frame;
    const missing = []; // the tiles to make first
    const changed = [];
    const rect = [rows, cols, 0, 0];
    for (let r = 0; r < rows; r++) {
      const row = cells[r];
      for (let c = 0, i = r * frame.cols; c < cols; c++, i++) {
        const { label, colour, mark } = row[c];
        if (showsCell(frame, i, label, colour, mark)) continue;
        labels[i] = label;
        colours[i] = colour;
        marks[i] = mark;
        if (!tileAt(tiles, cw, label, colour, mark)) missing.push([label, colour, mark]);
        changed.push(i);
        include(rect, r, c);
      }
    }
    makeTiles(tiles, size, missing);
    const width = frame.cols * cw;
    for (let k = 0; k < changed.length; k++) {
      const i = changed[k];
      const [page, offset] = tileAt(tiles, cw, labels[i], colours[i], marks[i]);
      const at = Math.floor(i / frame.cols) * ch * width + (i % frame.cols) * cw;
      copyRows(page, offset, cw, frame.pixels, at, width, cw, ch);
    }
    frame.shape = [rows, cols];
    return rect;
  }

  /** Puts the frame's rows × cols cells on the canvas: the `changed` rectangles of cells
   *  (compose's), those where the frame differs from the one the canvas showed, or all of
   *  them if the canvas was resized (to the frame's size). */
  put(frame, rows, cols, { cw, ch, ratio }, changed) {
    const canvas = this.canvas;
    const ctx = canvas.getContext("2d");
    const { width, height } = frame.image;
    const resized = canvas.width !== width || canvas.height !== height;
    if (resized) {
      canvas.width = width;
      canvas.height = height;
      setAttr(canvas, "style", `width: ${width / ratio}px; height: ${height / ratio}px`);
    }
    // The crop shows the picture's cells (its bottom and right borders are the grid lines
    // the cells' own do not draw).
    setAttr(this.crop, "style", `width: ${(cols * cw) / ratio}px; height: ${(rows * ch) / ratio}px`);
    if (resized) changed = [[0, 0, rows, cols]];
    else if (this.onCanvas !== frame) changed = cellsDiffering(this.onCanvas, frame, rows, cols);
    this.onCanvas = frame;
    for (const [r0, c0, r1, c1] of changed) {
      if (r1 > r0 && c1 > c0) {
        ctx.putImageData(frame.image, 0, 0, c0 * cw, r0 * ch, (c1 - c0) * cw, (r1 - r0) * ch);
      }
    }
  }
}

/** Where the canvas showing frame `shown` (of the same cell size, or null) differs from
 *  frame `next` at rows × cols, as rectangles of cells [r0, c0, r1, c1]: the cells beyond
 *  what it showed (a column more, a row more), and around those it showed whose number,
 *  colour or mark differ. A shape toggled back and forth (output_padding) then puts a row
 *  or a column, not the whole picture (0.4 ms at 44×44 cells). */
function cellsDiffering(shown, next, rows, cols) {
  if (shown?.look !== next.look) return [[0, 0, rows, cols]];
  const common = [Math.min(rows, shown.shape[0]), Math.min(cols, shown.shape[1])];
  const rect = [rows, cols, 0, 0];
  for (let r = 0; r < common[0]; r++) {
    for (let c = 0, i = r * next.cols, j = r * shown.cols; c < common[1]; c++, i++, j++) {
      if (!showsCell(shown, j, next.labels[i], next.colours[i], next.marks[i])) include(rect, r, c);
    }
  }
  return [rect, [0, common[1], rows, cols], [common[0], 0, rows, common[1]]];
}

/** Whether cell i of `frame` shows this number, colour and mark (what its pixels are made of). */
function showsCell(frame, i, label, colour, mark) {
  return frame.labels[i] === label && frame.colours[i] === colour && frame.marks[i] === mark;
}

/** Grows `rect`, a rectangle of cells [r0, c0, r1, c1] (none yet: [rows, cols, 0, 0]), to
 *  hold cell (r, c). */
function include(rect, r, c) {
  if (r < rect[0]) rect[0] = r;
  if (c < rect[1]) rect[1] = c;
  if (r + 1 > rect[2]) rect[2] = r + 1;
  if (c + 1 > rect[3]) rect[3] = c + 1;
}

/** A cell's size in device pixels (every tile whole pixels) for numbers of `chars`
 *  characters in this ink and font: [size, look] (look: what the tiles depend on). */
function cellSize(chars, { ink, font }) {
  const ratio = window.devicePixelRatio || 1;
  const cw = Math.round(Math.max(16, chars * 6.4 + 6) * ratio);
  return [{ cw, ch: Math.round(17 * ratio), ratio, ink, font }, `${ratio}|${ink}|${font}`];
}

/** Makes the tiles of a few hundred numbers, once a page, while it is idle: the first
 *  picture of new numbers (upsample-photo's first ×4 output: 256 of them) otherwise runs
 *  the code that makes tiles before the engine has compiled it, at twice the time. */
let tilesWarmed = false;
function warmTiles(element) {
  if (tilesWarmed || !element.isConnected) return;
  tilesWarmed = true;
  const [size, look] = cellSize(6, pictureStyle(element));
  const numbers = Array.from({ length: 300 }, (_, i) => [
    formatNumber((((i * 7919) % 20000) / 10000) * (i % 2 ? -1 : 1)), // -1.235...
    ["", "lv-p3", "lv-n5"][i % 3],
    "",
  ]);
  makeTiles(tilesFor(look), size, numbers);
}

/** A picture's pixels, up to rows × cols cells of one look, and what each cell shows
 *  (undefined, for a new frame, matches no cell). */
function newFrame(look, rows, cols, cw, ch) {
  const n = rows * cols;
  const image = new ImageData(cols * cw, rows * ch);
  const pixels = new Uint32Array(image.data.buffer);
  const empty = () => new Array(n);
  return { look, rows, cols, image, pixels, labels: empty(), colours: empty(), marks: empty(), shape: [0, 0] };
}

/** Makes frame `to` (as large as `from`) a copy of `from`. */
function copyFrame(from, to) {
  to.pixels.set(from.pixels);
  for (const key of ["labels", "colours", "marks"]) {
    for (let i = 0; i < from[key].length; i++) to[key][i] = from[key][i];
  }
  to.shape = from.shape;
}

const EMPTY_CELL = typeof document === "undefined" ? null : h("td", {}, document.createTextNode(""));

/** A table of numbers with a caption, its cells coloured as a heat map. */
class NumberTable {
  constructor(
    caption,
    { palette = "signed", hideCaption = false, className = "", picture = true } = {},
  ) {
    this.palette = PALETTES[palette];
    this.caption = h("caption", { class: hideCaption ? "live-visually-hidden" : "", text: caption });
    this.body = h("tbody");
    this.el = h("table", { class: `live-table ${className}`.trim() }, this.caption, this.body);
    this.el.dataset.array = caption;
    this.cells = [];
    this.shape = [0, 0];
    this.chars = 0;
    // A table whose size goes above and below PICTURE_FROM as a control moves is better
    // always drawn: a switch between the picture and the table costs the browser the
    // styling and layout of every cell the table brings into sight (or takes out).
    this.pictureFrom = picture === "always" ? 0 : PICTURE_FROM;
    // picture: large arrays are drawn on a canvas (the table stays, for screen readers
    // and tests, out of sight and out of layout): thousands of table cells take the
    // browser tens of milliseconds to lay out, a canvas a few.
    if (picture) {
      this.picture = new CanvasPicture(caption, hideCaption);
      this.shelf = h("div", { class: "live-shelf" }, this.el);
      this.box = h("div", { class: "live-array" }, this.picture.label, this.picture.crop, this.shelf);
    }
  }

  /** Shows a 2-D array (nested arrays, null for an empty cell, or a tensor's last two axes). */
  show(array, { mark = null, scale = null } = {}) {
    this.picture?.readStyle(); // cached: see pictureStyle
    const rows = plane(array);
    const height = rows.length;
    const width = height ? rows[0].length : 0;
    // A large table changing shape back to the shape it had before is swapped with the
    // <tbody> kept aside since (a control moved back and forth: its cells hold the numbers
    // of then, most of them still right); another shape is reached in place, keeping the
    // cells both shapes have (their numbers often stay: output_padding adds a row).
    const shown = this.body;
    const swap =
      shown.isConnected &&
      height * width > SWAP_FROM &&
      this.spare?.shape[0] === height &&
      this.spare.shape[1] === width &&
      (height !== this.shape[0] || width !== this.shape[1]);
    if (swap) {
      const spare = this.spare;
      this.spare = { body: shown, cells: this.cells, shape: this.shape };
      ({ body: this.body, cells: this.cells, shape: this.shape } = spare);
    }
    if (height !== this.shape[0] || width !== this.shape[1]) this.resize(height, width);
    const s = scale ?? scaleOf(rows);
    const drawn = Boolean(this.picture) && height * width > this.pictureFrom;
    let chars = 1;
    for (let r = 0; r < height; r++) {
      const row = rows[r];
      const cells = this.cells[r];
      for (let c = 0; c < width; c++) {
        const cell = cells[c];
        const v = row[c];
        if (cell.value !== v) {
          cell.value = v;
          // null is an empty cell (no number there, e.g. where no copy lands).
          cell.label = v === null ? "" : formatNumber(v);
          cell.text.data = cell.label;
          if (v === null) delete cell.td.dataset.value;
          else cell.td.dataset.value = String(v);
        }
        if (cell.label.length > chars) chars = cell.label.length;
        cell.colour = v === null ? "" : this.palette(v, s);
        cell.mark = mark ? mark(r, c) || "" : "";
        if (!drawn) {
          // (A table drawn on the canvas is out of sight: its classes would change nothing.)
          const cls = cell.mark ? `${cell.colour} ${cell.mark}` : cell.colour;
          if (cell.cls !== cls) {
            cell.cls = cls;
            cell.td.className = cls;
          }
        }
      }
    }
    if (swap) shown.replaceWith(this.body);
    this.shelf?.classList.toggle("live-offscreen", drawn);
    if (this.picture) this.picture.show(drawn ? this.cells : null, chars);
    // Fixed table layout (live.css), columns as wide as the longest number: the browser
    // lays out a table of thousands of cells without measuring each one.
    if (chars !== this.chars || this.widthFor !== width) {
      this.chars = chars;
      this.widthFor = width;
      this.el.style.setProperty("--live-chars", String(chars));
      this.el.style.setProperty("--live-cols", String(width));
    }
    this.el.hidden = false;
    this.veil(false);
  }

  /** Makes ahead of time the tiles that show(array, {mark, scale}) would draw the array
   *  with, if it is drawn as a picture; the page is left as it is. */
  prepare(array, { mark = null, scale = null } = {}) {
    const rows = plane(array);
    const width = rows.length ? rows[0].length : 0;
    if (!this.picture || rows.length * width <= this.pictureFrom) return;
    this.picture.readStyle();
    const s = scale ?? scaleOf(rows);
    let chars = 1;
    const cells = rows.map((row, r) =>
      row.map((v, c) => {
        const label = v === null ? "" : formatNumber(v);
        chars = Math.max(chars, label.length);
        return { label, colour: v === null ? "" : this.palette(v, s), mark: mark ? mark(r, c) || "" : "" };
      }),
    );
    this.picture.prepare(cells, chars);
  }

  /** Adds or removes rows and cells to reach height × width, keeping the others. */
  resize(height, width) {
    while (this.cells.length > height) {
      this.cells.pop();
      this.body.lastChild.remove();
    }
    for (const [r, row] of this.cells.entries()) this.fit(this.body.children[r], row, width);
    // New rows are gathered in a fragment and added at once.
    const rows = document.createDocumentFragment();
    while (this.cells.length < height) {
      const tr = h("tr");
      const row = [];
      this.fit(tr, row, width);
      rows.append(tr);
      this.cells.push(row);
    }
    this.body.append(rows);
    this.shape = [height, width];
  }

  fit(tr, row, width) {
    while (row.length > width) {
      row.pop();
      tr.lastChild.remove();
    }
    if (row.length >= width) return;
    // New cells are copies of one empty cell, gathered in a fragment and added at once.
    const cells = document.createDocumentFragment();
    while (row.length < width) {
      const td = EMPTY_CELL.cloneNode(true);
      cells.append(td);
      row.push({ td, text: td.firstChild, value: undefined, label: "", colour: "", mark: "", cls: "" });
    }
    tr.append(cells);
  }

  /** Shows no numbers, for a refused setting: the cells are veiled (visibility: out of
   *  sight and out of the accessibility tree; the caption stays), not taken out. The next
   *  array, most likely of the same shape, is then drawn in place: emptied, a table was
   *  laid out and painted anew (shape-explorer, back from a refused kernel_size: 3 ms). */
  refuse() {
    this.veil(true);
    this.hidePicture();
  }

  /** Empties the table (its caption stays). */
  clear() {
    if (this.body.isConnected && this.shape[0] * this.shape[1] > SWAP_FROM) {
      // The cells are kept aside (the next array is likely the same shape) and an empty
      // <tbody> takes their place.
      const empty = h("tbody");
      this.body.replaceWith(empty);
      this.spare = { body: this.body, cells: this.cells, shape: this.shape };
      [this.body, this.cells, this.shape] = [empty, [], [0, 0]];
    } else {
      this.resize(0, 0);
    }
    this.hidePicture();
    this.widthFor = 0;
    this.el.style.setProperty("--live-cols", "0");
  }

  hidePicture() {
    const pictured = this.picture && !this.picture.crop.hidden;
    if (pictured) this.picture.blank();
    else this.picture?.show(null, 0); // hidden; it keeps what it drew
    // A table drawn on the canvas stays out of sight, empty, its label naming the empty
    // place: brought back into the page, a shelf the browser skipped is styled and laid
    // out in full once more, and again when it leaves (2 ms a change in the scatter-add).
    if (this.shelf?.classList.contains("live-offscreen")) this.picture.label.hidden = false;
  }

  veil(veiled) {
    if (this.veiled === veiled) return;
    this.veiled = veiled;
    this.el.classList.toggle("live-veiled", veiled);
  }
}

// A grid's cell is a span the reader types in (contenteditable), not an <input>: an input
// is a box with a scrolled box of its own inside, which the browser pre-paints, paints and
// sorts into layers in every frame a demo changes, changed or not (chapter 4's 192 kernel
// cells: 1.4 ms a change, benchmarks/demo_redraw.py). Plain text only, where the browser
// knows that mode (setting a value it does not know throws).
const EDITABLE = (() => {
  if (typeof document === "undefined") return "true";
  try {
    document.createElement("span").contentEditable = "plaintext-only";
    return "plaintext-only";
  } catch {
    return "true";
  }
})();

/** Selects the whole text of `cell` (focused). */
function selectAll(cell) {
  if (cell.ownerDocument.activeElement === cell) cell.ownerDocument.getSelection().selectAllChildren(cell);
}

/** Where the caret or the selection is in `cell`'s text: [start, end], in characters. */
function caretIn(cell) {
  const selection = cell.ownerDocument.getSelection();
  if (!selection?.rangeCount) return [0, 0];
  const range = selection.getRangeAt(0);
  const before = cell.ownerDocument.createRange();
  before.selectNodeContents(cell);
  try {
    before.setEnd(range.startContainer, range.startOffset);
    const start = before.toString().length;
    before.setEnd(range.endContainer, range.endOffset);
    return [start, before.toString().length];
  } catch {
    return [0, 0]; // (the selection is elsewhere)
  }
}

/** An editable grid bound to a 2-D array setting: a table whose cells the reader types in. */
class EditableGrid {
  constructor(demo, key, { caption = key, palette = "signed" } = {}) {
    this.demo = demo;
    this.key = key;
    this.name = caption;
    this.palette = PALETTES[palette];
    this.body = h("tbody");
    this.el = h(
      "table",
      { class: "live-table live-editable" },
      h("caption", { text: caption }),
      this.body,
    );
    this.el.dataset.array = caption;
    this.el.dataset.editable = "";
    // One listener of each kind for the whole grid: a cell finds its row and column from
    // its place in the table, so cells added when the grid grows need none of their own.
    const at = (event) => {
      const input = event.target;
      if (!input?.classList?.contains("live-cell")) return null;
      const td = input.parentElement;
      return { input, r: td.parentElement.sectionRowIndex, c: td.cellIndex };
    };
    this.body.addEventListener("input", (event) => {
      const cell = at(event);
      if (cell) this.edited(cell.input, cell.r, cell.c);
    });
    // One line of plain text: no line breaks, no bold or italic (where the cell takes rich
    // text, EDITABLE "true"; edited() flattens what a paste brings).
    this.body.addEventListener("beforeinput", (event) => {
      const kind = event.inputType ?? "";
      if (at(event) && (kind.startsWith("format") || /^insert(Paragraph|LineBreak)$/.test(kind))) {
        event.preventDefault();
      }
    });
    // Reached from the keyboard, a cell's number is selected (typing replaces it), as in
    // an <input>; a click puts the caret where it points.
    // (A press focuses before it is released; the browser puts the caret at the start
    // after focusin, hence the selection a task later, and again at the first key.)
    this.body.addEventListener("pointerdown", () => {
      this.pointing = true;
      const done = new AbortController();
      const released = () => {
        this.pointing = false;
        done.abort();
      };
      for (const kind of ["pointerup", "pointercancel"]) {
        window.addEventListener(kind, released, { capture: true, signal: done.signal });
      }
    });
    this.body.addEventListener("focusin", (event) => {
      const cell = at(event);
      this.fresh = cell && !this.pointing ? cell.input : null;
      if (this.fresh) setTimeout(() => this.fresh && selectAll(this.fresh));
    });
    this.body.addEventListener("focusout", (event) => {
      if (at(event)) this.sync(this.demo.settings, null);
    });
    this.body.addEventListener("keydown", (event) => {
      const cell = at(event);
      if (!cell) return;
      const typed = event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey;
      if (typed && this.fresh === cell.input) selectAll(cell.input);
      this.fresh = null;
      this.navigate(event, cell.r, cell.c);
    });
    this.inputs = [];
    this.cells = []; // per cell: {td, cls, value, text}, the class and value last shown
    this.shape = [0, 0];
  }

  sync(settings, source) {
    const rows = settings[this.key];
    const height = rows.length;
    const width = height ? rows[0].length : 0;
    if (height !== this.shape[0] || width !== this.shape[1]) this.resize(height, width);
    const scale = scaleOf(rows);
    this.colours = makeRows(height, width, () => "");
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const input = this.inputs[r][c];
        const cell = this.cells[r][c];
        const v = rows[r][c];
        // An input is rewritten only when its value changed or the reader left other text
        // in it (a value written to 4 digits, 0.1875 as 0.1875 but 1/3 as 0.3333, reads
        // back as another number: comparing the text would rewrite it on every change).
        if (input !== source && (cell.value !== v || input.textContent !== cell.text)) {
          const text = input.textContent;
          const shown = text.trim() === "" ? NaN : Number(text);
          cell.text = shown === v ? text : formatNumber(v); // "1.50" typed for 1.5 stays
          cell.value = v;
          if (text !== cell.text) input.textContent = cell.text;
          if (input.hasAttribute("aria-invalid")) input.removeAttribute("aria-invalid");
        }
        this.colours[r][c] = this.palette(v, scale);
      }
    }
    this.paint();
  }

  valid(settings) {
    const rows = settings[this.key];
    return (
      Array.isArray(rows) &&
      rows.length > 0 &&
      rows.every((row) => Array.isArray(row) && row.length === rows[0].length && row.length > 0) &&
      rows.every((row) => row.every(Number.isFinite))
    );
  }

  /** Marks cells with a class: mark(r, c) -> class name or "" (say, the value in use). */
  mark(mark) {
    this.marker = mark;
    this.paint();
  }

  paint() {
    const [height, width] = this.shape;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const colour = this.colours?.[r]?.[c] ?? "";
        const marked = this.marker ? this.marker(r, c) || "" : "";
        const cls = marked ? (colour ? `${colour} ${marked}` : marked) : colour;
        const cell = this.cells[r][c];
        if (cell.cls !== cls) {
          cell.cls = cls;
          cell.td.className = cls;
        }
      }
    }
  }

  /** Adds or removes rows and cells to reach height × width, keeping the others (and
   *  the focus, if a kept cell has it). New cells are built apart, then added at once. */
  resize(height, width) {
    while (this.inputs.length > height) {
      this.inputs.pop();
      this.cells.pop();
      this.body.lastChild.remove();
    }
    this.inputs.forEach((row, r) => {
      const tr = this.body.rows[r];
      const cells = this.cells[r];
      while (row.length > width) {
        row.pop();
        cells.pop();
        tr.lastChild.remove();
      }
      if (row.length < width) tr.append(this.newCells(r, row, cells, width));
    });
    const rows = document.createDocumentFragment();
    while (this.inputs.length < height) {
      const r = this.inputs.length;
      const row = [];
      const cells = [];
      rows.append(h("tr", {}, this.newCells(r, row, cells, width)));
      this.inputs.push(row);
      this.cells.push(cells);
    }
    this.body.append(rows);
    this.shape = [height, width];
  }

  /** The cells from row.length to width of row r, in a fragment (pushed to row, cells). */
  newCells(r, row, cells, width) {
    const fragment = document.createDocumentFragment();
    for (let c = row.length; c < width; c++) {
      const input = h("span", {
        class: "live-cell",
        contenteditable: EDITABLE,
        role: "textbox",
        inputmode: "decimal",
        enterkeyhint: "next",
        autocapitalize: "off",
        spellcheck: "false",
        "aria-label": `${this.name}[${r}, ${c}]`,
      });
      const td = h("td", {}, input);
      fragment.append(td);
      row.push(input);
      cells.push({ td, cls: "", value: undefined, text: "" }); // text: last shown in the cell
    }
    return fragment;
  }

  edited(input, r, c) {
    if (input.firstElementChild && input.firstElementChild.tagName !== "BR") {
      input.textContent = input.textContent; // (pasted markup, where the cell takes it)
    }
    const text = input.textContent.trim().replace(/^−/, "-");
    const v = text === "" ? NaN : Number(text);
    if (!Number.isFinite(v)) {
      input.setAttribute("aria-invalid", "true");
      return;
    }
    input.removeAttribute("aria-invalid");
    const rows = this.demo.settings[this.key].map((row) => row.slice());
    rows[r][c] = v;
    this.demo.set({ [this.key]: rows }, input);
  }

  navigate(event, r, c) {
    const input = event.target;
    const [height, width] = this.shape;
    const [start, end] = caretIn(input);
    const atStart = start === 0 && end === 0;
    const atEnd = start === input.textContent.length;
    if (event.key === "Enter") event.preventDefault(); // (a cell is one line)
    let target = null;
    if (event.key === "ArrowUp" && r > 0) target = [r - 1, c];
    else if ((event.key === "ArrowDown" || event.key === "Enter") && r < height - 1) target = [r + 1, c];
    else if (event.key === "ArrowLeft" && atStart && c > 0) target = [r, c - 1];
    else if (event.key === "ArrowRight" && atEnd && c < width - 1) target = [r, c + 1];
    if (target) {
      event.preventDefault();
      const next = this.inputs[target[0]][target[1]];
      next.focus();
      selectAll(next);
    }
  }
}

// --- Controls -----------------------------------------------------------------------------

function pairGetter(key, axis) {
  return axis === undefined ? (s) => s[key] : (s) => s[key][axis];
}

function pairSetter(key, axis) {
  return axis === undefined
    ? (v) => ({ [key]: v })
    : (v, s) => {
        const pair = s[key].slice();
        pair[axis] = v;
        return { [key]: pair };
      };
}

class IntegerControl {
  constructor(demo, key, { min = 0, max = 10, axis, get, set, label = key } = {}) {
    this.demo = demo;
    this.min = min;
    this.max = max;
    this.get = get ?? pairGetter(key, axis);
    this.put = set ?? pairSetter(key, axis);
    this.input = h("input", {
      type: "number",
      step: 1,
      "aria-label": key,
      oninput: () => this.edited(),
      onblur: () => this.sync(demo.settings, null),
    });
    this.input.dataset.arg = key;
    if (axis !== undefined) this.input.dataset.axis = AXES[axis];
    this.el = h("label", { class: "live-control" }, h("span", { class: "live-name", text: label }), this.input);
  }

  edited() {
    const v = Number(this.input.value);
    const s = this.demo.settings;
    const ok =
      this.input.value !== "" &&
      Number.isInteger(v) &&
      v >= evaluate(this.min, s) &&
      v <= evaluate(this.max, s);
    if (!ok) {
      this.input.setAttribute("aria-invalid", "true");
      return;
    }
    this.input.removeAttribute("aria-invalid");
    if (v !== this.get(s)) this.demo.set(this.put(v, s), this.input);
  }

  /** Whether the reader could type this control's value of `settings` (see Demo.acceptable). */
  valid(settings) {
    const v = this.get(settings);
    return Number.isInteger(v) && v >= evaluate(this.min, settings) && v <= evaluate(this.max, settings);
  }

  sync(settings, source) {
    setAttr(this.input, "min", String(evaluate(this.min, settings)));
    setAttr(this.input, "max", String(evaluate(this.max, settings)));
    if (source === this.input) return;
    const v = this.get(settings);
    if (this.input.value !== String(v)) this.input.value = String(v);
    if (this.input.hasAttribute("aria-invalid")) this.input.removeAttribute("aria-invalid");
  }
}

class SelectControl {
  constructor(demo, key, options, { get, set, label = key } = {}) {
    this.demo = demo;
    this.get = get ?? ((s) => s[key]);
    this.put = set ?? ((v) => ({ [key]: v }));
    this.options = options.map((o) => (typeof o === "object" ? o : { value: o, label: String(o) }));
    this.input = h(
      "select",
      {
        "aria-label": key,
        onchange: () => {
          const option = this.options[Number(this.input.value)];
          demo.set(this.put(option.value, demo.settings), this.input);
        },
      },
      ...this.options.map((o, i) => h("option", { value: i, text: o.label })),
    );
    this.input.dataset.arg = key;
    this.el = h("label", { class: "live-control" }, h("span", { class: "live-name", text: label }), this.input);
  }

  valid(settings) {
    const v = JSON.stringify(this.get(settings));
    return this.options.some((o) => JSON.stringify(o.value) === v);
  }

  sync(settings) {
    const v = this.get(settings);
    const i = this.options.findIndex((o) => JSON.stringify(o.value) === JSON.stringify(v));
    if (i >= 0 && this.input.value !== String(i)) this.input.value = String(i);
  }
}

class CheckboxControl {
  constructor(demo, key, { label = key } = {}) {
    this.key = key;
    this.input = h("input", {
      type: "checkbox",
      "aria-label": key,
      onchange: () => demo.set({ [key]: this.input.checked }, this.input),
    });
    this.input.dataset.arg = key;
    this.el = h("label", { class: "live-control" }, this.input, h("span", { class: "live-name", text: label }));
  }

  valid(settings) {
    return typeof settings[this.key] === "boolean";
  }

  sync(settings) {
    this.input.checked = Boolean(settings[this.key]);
  }
}

class SliderControl {
  constructor(demo, key, { min = 0, max = 1, step = 0.01, format = formatNumber, label = key } = {}) {
    this.key = key;
    this.format = format;
    this.range = [min, max];
    this.input = h("input", {
      type: "range",
      min,
      max,
      step,
      "aria-label": key,
      oninput: () => demo.set({ [key]: Number(this.input.value) }, this.input),
    });
    this.input.dataset.arg = key;
    this.readout = h("output", { class: "live-readout" });
    this.el = h(
      "label",
      { class: "live-control" },
      h("span", { class: "live-name", text: label }),
      this.input,
      this.readout,
    );
  }

  valid(settings) {
    const v = settings[this.key];
    return typeof v === "number" && v >= this.range[0] && v <= this.range[1];
  }

  sync(settings, source) {
    const v = settings[this.key];
    if (source !== this.input && this.input.value !== String(v)) this.input.value = String(v);
    const text = this.format(v);
    setText(this.readout, text);
    setAttr(this.input, "aria-valuetext", text);
  }
}

/** The `step` control: a range over 0..count(settings), play/pause and a readout. */
class StepControl {
  constructor(demo, { count, describe = (k, n) => `${k} of ${n}`, interval = 650 }) {
    this.demo = demo;
    this.count = count;
    this.describe = describe;
    this.interval = interval;
    this.timer = null;
    this.input = h("input", {
      type: "range",
      min: 0,
      step: 1,
      "aria-label": "step",
      oninput: () => {
        this.stop();
        demo.set({ step: Number(this.input.value) }, this.input);
      },
    });
    this.input.dataset.arg = "step";
    this.button = h("button", {
      type: "button",
      class: "live-button live-play",
      "aria-pressed": "false",
      text: "Play",
      onclick: () => (this.timer ? this.stop() : this.play()),
    });
    this.readout = h("output", { class: "live-readout live-step-readout", "aria-live": "polite" });
    this.el = h(
      "div",
      { class: "live-control live-step" },
      h("label", { class: "live-control" }, h("span", { class: "live-name", text: "step" }), this.input),
      this.button,
      this.readout,
    );
  }

  play() {
    const n = this.count(this.demo.settings);
    if (this.demo.settings.step >= n) this.demo.set({ step: 0 }, null);
    setText(this.button, "Pause");
    setAttr(this.button, "aria-pressed", "true");
    this.timer = setInterval(() => {
      const s = this.demo.settings;
      const last = this.count(s);
      if (!this.input.isConnected || s.step >= last) return this.stop();
      this.demo.set({ step: s.step + 1 }, null);
      if (this.demo.settings.step >= last) this.stop();
    }, this.interval);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    setText(this.button, "Play");
    setAttr(this.button, "aria-pressed", "false");
  }

  valid(settings) {
    const step = settings.step;
    return Number.isInteger(step) && step >= 0 && step <= this.demo.safeCount(settings);
  }

  sync(settings, source) {
    const n = this.count(settings);
    setAttr(this.input, "max", String(n));
    const step = String(settings.step);
    if (source !== this.input && this.input.value !== step) this.input.value = step;
    const text = this.describe(settings.step, n, settings);
    setText(this.readout, text);
    setAttr(this.input, "aria-valuetext", text);
  }
}

// --- The demo -----------------------------------------------------------------------------

class Demo {
  constructor(spec, model, el) {
    this.spec = spec;
    this.model = model;
    this.id = `live-${++counter}`;
    this.settings = structuredClone(model.get("settings"));
    this.controls = [];
    this.panels = []; // demo.panel boxes: each keeps its tallest height (keepTallest)
    this.tables = [];
    this.stepControl = null;
    this.redraws = 0;

    const title = model.get("title");
    this.root = h("div", { class: "upsampling-demo live-demo", role: "group" });
    this.root.dataset.demo = model.get("demo");
    this.root.dataset.demoKind = "live";
    if (title) {
      const heading = h("div", { class: "upsampling-demo-title", id: `${this.id}-title`, text: title });
      this.root.append(heading);
      this.root.setAttribute("aria-labelledby", heading.id);
    } else {
      this.root.setAttribute("aria-label", model.get("demo"));
    }
    this.controlsEl = h("div", { class: "live-controls" });
    this.message = h("p", { class: "live-message", role: "status", "aria-live": "polite" });
    this.viewsEl = h("div", { class: "live-views" });
    this.code = h("code", { class: "language-python" });
    this.status = h("span", { class: "live-copy-status", role: "status" });
    const toolbar = h(
      "div",
      { class: "live-toolbar" },
      h("button", {
        type: "button",
        class: "live-button",
        text: "Reset",
        title: "Back to the settings the page opened with",
        onclick: () => this.reset(),
      }),
      h("button", {
        type: "button",
        class: "live-button",
        text: "Copy as Python",
        title: "Copy these settings as a call of the upsampling package",
        onclick: () => this.copy(),
      }),
      this.status,
    );
    const python = h(
      "details",
      { class: "live-python" },
      h("summary", { text: "The same call in Python" }),
      h("pre", {}, this.code),
    );
    this.root.append(this.controlsEl, this.message, this.viewsEl, toolbar, python);
    el.append(this.root);
    this.keepTallest();
    python.addEventListener("toggle", () => this.keepTallest());

    this.redraw = spec.setup(this);
    model.on("change:settings", () => {
      if (this.saving) return;
      this.set(structuredClone(model.get("settings")), null, { save: false });
    });
    // In the static book, the settings in the URL (a shared link) replace the opening
    // ones, as far as they are valid; each change is written back (see settings_hash.js).
    this.inUrl = inStaticBook(el);
    this.set(this.inUrl ? this.fromUrl() : {}, null, { save: false });
    this.root.dataset.responseMs = this.root.dataset.redrawMs;
    if (spec.warm) whenIdle(() => spec.warm(this.settings));
    if (this.picture) whenIdle(() => warmTiles(this.picture.canvas));
  }

  // Builders -------------------------------------------------------------------------------

  add(control, parent) {
    this.controls.push(control);
    (parent ?? this.controlsEl).append(control.el);
    return control;
  }

  integer(key, options = {}) {
    return this.add(new IntegerControl(this, key, options), options.parent);
  }

  axes(specs, { parent } = {}) {
    // A grid: the argument names once on top (for the eye; every input carries its
    // name as aria-label), then one row per axis. Column widths in ch of one font, so
    // that the rows line up.
    const width = (key) => `${Math.max(key.length, 5) + 1}ch`;
    const box = h("div", { class: "live-axes" });
    const header = h("div", { class: "live-axis live-axis-header", "aria-hidden": "true" });
    header.append(h("span", { class: "live-axis-name" }));
    for (const spec of specs) {
      const cell = h("span", { class: "live-axis-cell", text: spec.key });
      cell.style.width = width(spec.key);
      header.append(cell);
    }
    box.append(header);
    AXES.forEach((axis, i) => {
      const group = h("div", { class: "live-axis", role: "group", "aria-label": axis });
      group.append(h("span", { class: "live-axis-name", text: axis, "aria-hidden": "true" }));
      for (const spec of specs) {
        const { key, ...options } = spec;
        // min and max may differ per axis: [for height, for width].
        for (const bound of ["min", "max"]) {
          if (Array.isArray(options[bound])) options[bound] = options[bound][i];
        }
        const get = spec.get && ((s) => spec.get(s)[i]);
        const set = spec.set && ((v, s) => spec.set(v, i, s));
        const control = new IntegerControl(this, key, { ...options, axis: i, get, set });
        control.el.classList.add("live-axis-cell");
        control.el.style.width = width(key);
        control.el.querySelector(".live-name").className = "live-visually-hidden";
        this.add(control, group);
      }
      box.append(group);
    });
    (parent ?? this.controlsEl).append(box);
    return { el: box };
  }

  select(key, options, extra = {}) {
    return this.add(new SelectControl(this, key, options, extra), extra.parent);
  }

  checkbox(key, extra = {}) {
    return this.add(new CheckboxControl(this, key, extra), extra.parent);
  }

  slider(key, extra = {}) {
    return this.add(new SliderControl(this, key, extra), extra.parent);
  }

  stepper(options) {
    this.stepControl = this.add(new StepControl(this, options), options.parent);
    return this.stepControl;
  }

  presets(list, { parent, label = "presets" } = {}) {
    const group = h("div", { class: "live-presets", role: "group", "aria-label": label });
    group.append(h("span", { class: "live-name", text: label, "aria-hidden": "true" }));
    for (const preset of list) {
      group.append(
        h("button", {
          type: "button",
          class: "live-button",
          text: preset.label,
          title: preset.title,
          onclick: () => this.set(preset.apply(this.settings), null),
        }),
      );
    }
    (parent ?? this.controlsEl).append(group);
    return { el: group };
  }

  grid(key, options = {}) {
    return this.add(new EditableGrid(this, key, options), options.parent ?? this.viewsEl);
  }

  table(caption, options = {}) {
    const table = new NumberTable(caption, options);
    this.tables.push(table);
    if (table.picture && !this.picture) {
      this.picture = table.picture; // its canvas is where pictureStyle reads the ink
      watchTheme(this);
    }
    (options.parent ?? this.viewsEl).append(table.box ?? table.el);
    return table;
  }

  panel(heading, { parent, row = false, alignEnd = false, scroll = false } = {}) {
    const box = h("div", { class: row ? "live-panel live-row" : "live-panel" });
    if (alignEnd) box.classList.add("live-align-end"); // tables of as many rows line up
    if (scroll) box.classList.add("live-scroll"); // its rows scroll sideways together
    if (heading) box.append(h("div", { class: "live-panel-heading", text: heading }));
    (parent ?? this.viewsEl).append(box);
    this.panels.push(box);
    this.watchHeight(box);
    return box;
  }

  note({ parent } = {}) {
    const p = h("p", { class: "live-note" });
    (parent ?? this.viewsEl).append(p);
    return p;
  }

  // Changes --------------------------------------------------------------------------------

  /** Applies `patch` to the settings and redraws; `source` is the element being edited. */
  set(patch, source = null, { save = true } = {}) {
    const start = performance.now();
    this.settled = null; // tasks waiting for the settings to settle (whenSettled) are dropped
    if (STYLE.stale && this.picture) pictureStyle(this.picture.canvas); // before any write
    const before = this.settings;
    const next = { ...before, ...patch };
    if (this.stepControl) {
      // A demo left at its last step stays there when the number of steps changes;
      // a patch may ask for step Infinity (the end).
      const last = this.safeCount(next);
      if ("step" in patch) next.step = Math.max(0, Math.min(patch.step, last));
      else {
        const wasLast = before.step >= this.safeCount(before);
        next.step = wasLast ? last : Math.min(before.step, last);
      }
    }
    this.settings = next;
    for (const control of this.controls) control.sync(next, source);
    try {
      this.redraw(next);
      setText(this.message, "");
      if ("error" in this.root.dataset) delete this.root.dataset.error;
    } catch (error) {
      if (!(error instanceof ops.PackageError)) throw error;
      setText(this.message, `${error.name}: ${error.message}`);
      this.root.dataset.error = error.name;
      for (const table of this.tables) table.refuse();
    }
    setText(this.code, this.spec.python(next));
    this.redraws += 1;
    this.root.dataset.redraws = String(this.redraws);
    this.root.dataset.redrawMs = (performance.now() - start).toFixed(2);
    if (save) this.save();
    if (this.inUrl) this.toUrlSoon();
  }

  // Settings in the URL ----------------------------------------------------------------

  /** The settings of this demo's part of the URL's hash that the demo accepts (a patch). */
  fromUrl() {
    const text = hashPart(decodeHash(location.hash), this.root.dataset.demo);
    if (text === null) return {};
    scrollToLinkedDemo(this.root);
    const grids = this.controls.filter((c) => c instanceof EditableGrid).map((c) => c.key);
    const patch = this.acceptable(decodeSettings(text, this.settings, grids));
    // A setting the controls accept but the demo cannot draw (a bug, not the reader's)
    // sends the demo back to its opening settings rather than to a broken page.
    try {
      this.redraw({ ...this.settings, ...patch });
    } catch (error) {
      if (!(error instanceof ops.PackageError)) return {};
    }
    return patch;
  }

  /**
   * The largest part of `patch` the demo accepts: every control could show its value
   * (in range, given the other settings) and the demo's own check (spec.valid) agrees.
   * Settings that depend on each other (padding's range on stride) are tried together,
   * then one at a time until none more is accepted.
   */
  acceptable(patch) {
    const ok = (s) => {
      try {
        return this.controls.every((c) => !c.valid || c.valid(s)) && (this.spec.valid?.(s) ?? true);
      } catch {
        return false;
      }
    };
    if (ok({ ...this.settings, ...patch })) return patch;
    let settings = this.settings;
    const accepted = {};
    for (let more = true; more; ) {
      more = false;
      for (const [key, value] of Object.entries(patch)) {
        if (key in accepted || !ok({ ...settings, [key]: value })) continue;
        settings = { ...settings, [key]: value };
        accepted[key] = value;
        more = true;
      }
    }
    return accepted;
  }

  /** Runs `tasks` one per idle period once the settings have stayed unchanged for
   *  SETTLED_MS; the next change drops the tasks not yet run (and those it asks for
   *  replace them). */
  whenSettled(tasks) {
    clearTimeout(this.settledTimer);
    const pending = (this.settled = { tasks }); // set() drops it
    const next = () => {
      if (this.settled !== pending || !tasks.length || !this.root.isConnected) return;
      tasks.shift()();
      whenIdle(next);
    };
    this.settledTimer = setTimeout(() => whenIdle(next), SETTLED_MS);
  }

  /** Writes the settings to the URL after the changes stop for a moment (the browser
   *  limits how often a page may rewrite its URL), when the page is idle: the write (~1 ms)
   *  then never shares a frame with a change that came just as the delay ran out. */
  toUrlSoon() {
    clearTimeout(this.urlTimer);
    this.urlTimer = setTimeout(() => whenIdle(() => this.toUrl()), URL_DELAY_MS);
  }

  toUrl() {
    const text = encodeSettings(this.settings, this.model.get("initial"));
    const before = decodeHash(location.hash);
    const hash = withPart(before, this.root.dataset.demo, text);
    if (hash === before) return;
    const url = `${location.pathname}${location.search}${hash ? `#${hash}` : ""}`;
    history.replaceState(history.state, "", url);
  }

  safeCount(settings) {
    try {
      return this.stepControl.count(settings);
    } catch (error) {
      if (error instanceof ops.PackageError) return 0;
      throw error;
    }
  }

  /** Calls fn when the reader resets the demo, before the opening settings are drawn (a
   *  view that keeps what it showed before, as keepTallest does, forgets it then). */
  onReset(fn) {
    (this.resetHooks ??= []).push(fn);
  }

  reset() {
    this.stepControl?.stop();
    for (const fn of this.resetHooks ?? []) fn();
    this.set(structuredClone(this.model.get("initial")), null);
    this.keepTallest();
  }

  /**
   * From now on the demo, each of its panels and its message keep the largest height
   * they reach (until reset, or the reader opens or closes the Python call): a change that
   * made the demo shorter would move the rest of the chapter up, and the next one back
   * down, and the browser takes longer to move a long chapter than to redraw the demo
   * (about 13 ms a time on chapter 3, against 5–10 ms for the redraw), besides moving the
   * buttons under the reader's pointer. Inside the demo, a panel that shrank (a smaller
   * kernel), or a message that came and went (a refused setting, then one that computes),
   * would move what follows: laid out and painted again (overlap's kernel_size, 1 ms of a
   * 9 ms change). A ResizeObserver sees a new size after layout and before paint, in the
   * same frame.
   */
  keepTallest() {
    this.tallest = new Map();
    const boxes = [this.root, this.message, ...this.panels];
    for (const box of boxes) {
      box.style.minHeight = "";
      box.classList.remove("live-held");
    }
    if (typeof ResizeObserver === "undefined") return;
    this.heightWatch ??= new ResizeObserver((entries) => {
      for (const { target, borderBoxSize } of entries) {
        const height = borderBoxSize?.[0]?.blockSize ?? target.offsetHeight;
        if (height > (this.tallest.get(target) ?? 0)) {
          this.tallest.set(target, height);
          target.style.minHeight = `${height}px`;
          target.classList.add("live-held"); // (an empty message keeps its place: live.css)
        }
      }
    });
    this.heightWatch.disconnect();
    for (const box of boxes) this.watchHeight(box);
  }

  watchHeight(box) {
    if (!this.heightWatch) return;
    box.style.boxSizing = "border-box"; // min-height bounds what is observed
    this.heightWatch.observe(box, { box: "border-box" });
  }

  save() {
    // With a kernel this keeps LiveDemo.settings current; a static page has none. A copy
    // of the top level only: a change makes new arrays for what it changes and never
    // writes into the old ones (set()), so the model may share the rest. A deep copy of a
    // photo demo's pixels on every change cost 0.4 ms and that much garbage.
    try {
      this.saving = true;
      this.model.set("settings", { ...this.settings });
      this.model.save_changes();
    } catch (error) {
      /* no kernel: nothing to sync */
    } finally {
      this.saving = false;
    }
  }

  async copy() {
    const text = this.code.textContent;
    try {
      await navigator.clipboard.writeText(text);
      this.status.textContent = "Copied.";
    } catch (error) {
      // No clipboard permission: open the code and select it for Ctrl+C.
      this.code.closest("details").open = true;
      const range = document.createRange();
      range.selectNodeContents(this.code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      this.status.textContent = "Selected: press Ctrl+C to copy.";
    }
    setTimeout(() => (this.status.textContent = ""), 2500);
  }
}

// In JupyterLab a notebook in command mode binds plain keys on the document (arrows move
// between cells, A/B insert one, M makes it Markdown) and spares only text fields: the
// arrows on a slider or a select moved the notebook instead. A key without Ctrl, Alt or
// Meta stops at the demo, after the browser has given it to the control; shortcuts with
// a modifier (save, the palette) still reach JupyterLab. frame_demo.js does the same.
function keepKeysInDemo(event) {
  if (!event.ctrlKey && !event.altKey && !event.metaKey) event.stopPropagation();
}

/** The anywidget front-end of a live demo; see the top of this file. */
export function liveDemo(spec) {
  return {
    render({ model, el }) {
      el.addEventListener("keydown", keepKeysInDemo);
      const demo = new Demo(spec, model, el);
      return () => demo.stepControl?.stop();
    },
  };
}
