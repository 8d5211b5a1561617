// A live demo's settings in the page's URL, after the "#", so that a link shows exactly
// what the reader sees. Each demo owns one part of the hash, named by its data-demo name;
// parts are joined by "&", and a part that is not a demo's (a section's anchor) is kept:
//
//   #scatter-add:input=2,0/4,1;stride=2,3&overlap:layers=2
//
// A part lists the settings that differ from those the page opened with, as key=value
// joined by ";": a number as JavaScript writes it, a list's values joined by ",", a 2-D
// list's rows joined by "/", true or false, a string URI-encoded. Decoding trusts
// nothing: a value must have the type and the shape of the setting it replaces (its
// opening value), or it is dropped; whether it is in range is the demo's to say.
// live_ui.js reads the hash when a demo opens and writes it after each change, in the
// static book only (not in JupyterLab, where the URL is the notebook's).

const PART = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):(.*)$/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
/** Largest side of a 2-D list read from a hash (the demos' grids are 8 × 8 at most). */
const MAX_SIDE = 64;

const isGrid = (v) => Array.isArray(v) && v.length > 0 && Array.isArray(v[0]);

/** A setting's value as hash text, or null when it has no hash form (an object). */
export function encodeValue(v) {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : null;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return encodeURIComponent(v);
  if (isGrid(v)) {
    const rows = v.map((row) => (Array.isArray(row) ? encodeValue(row) : null));
    return rows.every((r) => r !== null && r !== "") ? rows.join("/") : null;
  }
  if (Array.isArray(v)) {
    const values = v.map((x) => (typeof x === "number" && Number.isFinite(x) ? String(x) : null));
    return values.every((x) => x !== null) ? values.join(",") : null;
  }
  return null;
}

function number(text) {
  const v = NUMBER.test(text) ? Number(text) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

/**
 * The value `text` stands for, if it has the type and shape of `like` (the setting's
 * opening value): a number, a boolean, a string, a list of numbers of the same length,
 * or (only where `grid` is true: a setting the reader edits as a grid) a 2-D list of
 * numbers, rectangular, of any size up to MAX_SIDE a side. Anything else: undefined.
 */
export function decodeValue(text, like, grid = false) {
  if (typeof like === "number") return number(text);
  if (typeof like === "boolean") return text === "true" ? true : text === "false" ? false : undefined;
  if (typeof like === "string") {
    try {
      return decodeURIComponent(text);
    } catch {
      return undefined; // a malformed escape
    }
  }
  if (isGrid(like)) {
    if (!grid) return undefined;
    const rows = text.split("/").map((row) => row.split(",").map(number));
    const width = rows[0].length;
    const ok =
      rows.length <= MAX_SIDE &&
      width <= MAX_SIDE &&
      rows.every((row) => row.length === width && row.every((v) => v !== undefined));
    return ok ? rows : undefined;
  }
  if (Array.isArray(like)) {
    const values = text.split(",").map(number);
    const ok = values.length === like.length && values.every((v) => v !== undefined);
    return ok ? values : undefined;
  }
  return undefined;
}

/** The settings that differ from `initial`, as one hash part's text ("" for none). */
export function encodeSettings(settings, initial) {
  const pairs = [];
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in initial) || JSON.stringify(value) === JSON.stringify(initial[key])) continue;
    const text = encodeValue(value);
    if (text !== null) pairs.push(`${key}=${text}`);
  }
  return pairs.join(";");
}

/**
 * The settings a part's text gives, decoded against `initial` (see decodeValue); keys
 * not in `initial`, repeated keys and values that do not decode are dropped. `grids`:
 * the keys edited as grids.
 */
export function decodeSettings(text, initial, grids = []) {
  const patch = {};
  const seen = new Set();
  for (const pair of text.split(";")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at);
    if (seen.has(key)) {
      delete patch[key]; // said twice: neither is trusted
      continue;
    }
    seen.add(key);
    if (!Object.hasOwn(initial, key)) continue;
    const value = decodeValue(pair.slice(at + 1), initial[key], grids.includes(key));
    if (value !== undefined) patch[key] = value;
  }
  return patch;
}

/** The text of demo `name`'s part of `hash` (without "#"), or null if it has none. */
export function hashPart(hash, name) {
  for (const part of hash.split("&")) {
    const match = PART.exec(part);
    if (match && match[1] === name) return match[2];
  }
  return null;
}

/** `hash` with demo `name`'s part set to `text` (removed when `text` is ""). */
export function withPart(hash, name, text) {
  const parts = [];
  let placed = false;
  for (const part of hash.split("&")) {
    if (part === "") continue;
    const match = PART.exec(part);
    if (match && match[1] === name) {
      if (!placed && text) parts.push(`${name}:${text}`);
      placed = true;
    } else {
      parts.push(part);
    }
  }
  if (!placed && text) parts.push(`${name}:${text}`);
  return parts.join("&");
}

/**
 * Whether the demo runs in a static page of the book (where the URL is the reader's to
 * share) rather than in JupyterLab, Notebook or VS Code (where the URL is the
 * application's). The book's pages hold their widgets' saved state in a
 * `application/vnd.jupyter.widget-state+json` script, which a live notebook's page does
 * not have; the applications' own shells and output areas are looked for as well.
 */
export function inStaticBook(el) {
  if (typeof document === "undefined" || typeof history === "undefined") return false;
  const saved = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  const app = document.querySelector(".jp-LabShell, .jp-NotebookPanel, #notebook-container, .jp-OutputArea");
  const inOutput = el?.closest?.(".jp-OutputArea, .output_area, .cell-output-ipywidget-background");
  return Boolean(saved) && !app && !inOutput && !globalThis.Jupyter && !globalThis.acquireVsCodeApi;
}

let scrolledToLink = false; // once per page: the first demo (in page order) a link names

/**
 * Brings a demo that a link set (its part of the hash) into view when the page is opened
 * from that link: the browser finds no element named by the hash and would stay at the
 * top of the chapter. Not on a reload or on going back, where the browser restores the
 * reader's own position. The chapter above the demo may still grow (images, typeset
 * maths), so the demo is followed for two seconds, until the reader scrolls.
 */
export function scrollToLinkedDemo(root) {
  if (scrolledToLink || typeof ResizeObserver === "undefined") return;
  scrolledToLink = true;
  const navigation = performance.getEntriesByType?.("navigation")[0]?.type;
  if (navigation === "reload" || navigation === "back_forward") return;
  const follow = () => root.scrollIntoView({ block: "start" });
  const reader = ["wheel", "touchstart", "keydown", "mousedown"];
  const observer = new ResizeObserver(follow);
  const stop = () => {
    observer.disconnect();
    for (const type of reader) removeEventListener(type, stop, true);
  };
  for (const type of reader) addEventListener(type, stop, true);
  observer.observe(document.body);
  setTimeout(stop, 2000);
  follow();
}
