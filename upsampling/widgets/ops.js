// The course's operations in JavaScript, for the live demos: a mirror of the numpy
// package `upsampling` (upsampling/*.py), computed in the page with no kernel.
//
// What it mirrors: the same function names, argument names, defaults, semantics, output
// shapes and error messages as the package (conv.py, conv_transpose.py, overlap.py,
// checkerboard.py, pooling.py, interpolate.py, shuffle.py, sizes.py, _args.py), which
// itself follows PyTorch's torch.nn.functional. tests/test_js_parity.py holds this file to
// the package: at least 1,000 random cases per operation (accepted and rejected ones), the
// same shapes, values within 1e-12 relative (float64), the same exceptions and messages;
// tests/browser/test_js_parity_in_browser.py does it again in Chromium on the built book.
//
// Tensors: `{shape: number[], data: Float64Array}`, row-major (C order) like numpy. Index
// arrays (max-pool indices) are the same object holding integer values. `array(nested)`
// turns nested JS arrays (any rank) into a tensor, `tolist(t)` does the reverse,
// `zeros(shape)` makes one. Every function that takes an array also accepts nested arrays.
// Results are always float64 (numpy's dtype rules for float32 inputs do not apply).
//
// Calls: the arguments without a default in the package are positional, in the package's
// order; every argument with a default goes in one options object, under the package's
// name: conv_transpose2d(input, weight, {bias, stride, padding, output_padding, groups,
// dilation}). Pair arguments take a number or [h, w] ([v] counts as [v, v]), as the
// package does. A JS number is an "int" when Number.isInteger says so (JS has no 2 versus
// 2.0); null is Python's None. An unknown option is a TypeError, as an unknown keyword
// argument is in Python.
//
// Errors: every case the package rejects throws a PackageError (an Error) whose `.name` is
// the Python exception class ("ValueError", "TypeError") and whose `.message` is the
// package's message character for character, Python reprs included ([1, 2] for a list,
// (1, 2) for a tuple, None, True, 2.0), so that a demo can show the package's own words.

/** The error the package raises: `.name` is its Python class, `.message` its text. */
export class PackageError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

const typeError = (message) => new PackageError("TypeError", message);
const valueError = (message) => new PackageError("ValueError", message);

// ---------------------------------------------------------------------------------------
// Python reprs, for messages

/** Python's repr of a float (shortest round-trip digits, Python's exponent rules). */
export function pyFloat(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp >= digits.length - 1) return `${sign}${digits}${"0".repeat(exp - digits.length + 1)}.0`;
    if (exp >= 0) return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  }
  const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
  return `${sign}${body}e${exp < 0 ? "-" : "+"}${e}`;
}

function pyStr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const escaped = s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

/** Python's repr of a value a caller passed: a JS array reads as a Python list. */
export function repr(v) {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) return `[${v.map(repr).join(", ")}]`;
  if (isTensor(v)) return `array(${JSON.stringify(tolist(v))})`;
  if (isPlainObject(v)) {
    return `{${Object.entries(v).map(([k, x]) => `${pyStr(k)}: ${repr(x)}`).join(", ")}}`;
  }
  return String(v);
}

/** Python's repr of a tuple of ints: (1, 2), (3,), (). */
function tup(values) {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(", ")})`;
}

/** Python's repr of a tuple of floats. */
function floatTup(values) {
  return tup(values.map(pyFloat));
}

// ---------------------------------------------------------------------------------------
// Tensors

function isTensor(x) {
  return x !== null && typeof x === "object" && Array.isArray(x.shape) && x.data !== undefined;
}

function isPlainObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x) && !isTensor(x);
}

function sizeOf(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A float64 tensor of zeros. */
export function zeros(shape) {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

/** Nested JS arrays (any rank; numbers or booleans) as a tensor, like `np.asarray`. */
export function array(nested, name = "input") {
  const shape = [];
  let level = nested;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  const ragged = () => typeError(`${name} must be an array of numbers, got list`);
  const walk = (node, depth) => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw ragged();
      if (typeof node === "boolean") data[k++] = node ? 1 : 0;
      else if (typeof node === "number") data[k++] = node;
      else throw typeError(`${name} must hold real numbers, got ${repr(node)}`);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) throw ragged();
    for (const child of node) walk(child, depth + 1);
  };
  walk(nested, 0);
  return { shape, data };
}

/** A tensor as nested JS arrays (a number for a 0-d tensor). */
export function tolist(t) {
  const { shape, data } = t;
  let k = 0;
  const build = (depth) => {
    if (depth === shape.length) return data[k++];
    const out = new Array(shape[depth]);
    for (let i = 0; i < shape[depth]; i++) out[i] = build(depth + 1);
    return out;
  };
  return build(0);
}

/** `x` as a float64 tensor: a tensor (data copied to a Float64Array if needed), nested
 * arrays, or a number (0-d). Mirrors `_args.as_float_array`. */
function asTensor(x, name) {
  if (isTensor(x)) {
    if (x.data.length !== sizeOf(x.shape)) {
      // No package message: numpy arrays cannot be inconsistent.
      throw typeError(`${name} has shape ${tup(x.shape)} but ${x.data.length} values`);
    }
    if (x.data instanceof Float64Array) return x;
    return { shape: [...x.shape], data: Float64Array.from(x.data) };
  }
  if (Array.isArray(x)) return array(x, name);
  if (typeof x === "number") return { shape: [], data: Float64Array.of(x) };
  if (typeof x === "boolean") return { shape: [], data: Float64Array.of(x ? 1 : 0) };
  throw typeError(`${name} must be an array of numbers, got ${pyTypeName(x)}`);
}

function pyTypeName(x) {
  if (x === null || x === undefined) return "NoneType";
  if (typeof x === "string") return "str";
  return typeof x;
}

function reshape(t, shape) {
  return { shape, data: t.data };
}

// ---------------------------------------------------------------------------------------
// Argument checks (_args.py)

function isInt(v) {
  return typeof v === "number" && Number.isInteger(v);
}

function isReal(v) {
  return typeof v === "number";
}

function pair(value, name) {
  if (isInt(value)) return [value, value];
  if (Array.isArray(value) && (value.length === 1 || value.length === 2) && value.every(isInt)) {
    return value.length === 1 ? [value[0], value[0]] : [value[0], value[1]];
  }
  throw typeError(`${name} must be an int or a pair of ints, got ${repr(value)}`);
}

function positivePair(value, name) {
  const result = pair(value, name);
  if (Math.min(...result) < 1) throw valueError(`${name} must be positive, got ${repr(value)}`);
  return result;
}

function nonNegativePair(value, name) {
  const result = pair(value, name);
  if (Math.min(...result) < 0) throw valueError(`${name} must be non-negative, got ${repr(value)}`);
  return result;
}

function positiveInt(value, name) {
  if (!isInt(value)) throw typeError(`${name} must be an int, got ${repr(value)}`);
  if (value < 1) throw valueError(`${name} must be positive, got ${repr(value)}`);
  return value;
}

/** Unbatched (C, H, W) inputs get a batch axis: returns [tensor, unbatched]. */
function spatialInput(x, name, op) {
  const t = asTensor(x, name);
  if (t.shape.length === 4) return [t, false];
  if (t.shape.length === 3) return [reshape(t, [1, ...t.shape]), true];
  throw valueError(
    `${op}: expected ${name} with 3 (unbatched) or 4 (batched) dimensions, got shape ${tup(t.shape)}`,
  );
}

function unbatch(t, unbatched) {
  return unbatched ? reshape(t, t.shape.slice(1)) : t;
}

/** The options object, with Python's error for a keyword the function does not take. */
function options(op, given, defaults) {
  const result = { ...defaults };
  if (given === undefined || given === null) return result;
  if (typeof given !== "object" || Array.isArray(given) || isTensor(given)) {
    throw typeError(`${op}(): the options must be an object of keyword arguments, got ${repr(given)}`);
  }
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      throw typeError(`${op}() got an unexpected keyword argument '${key}'`);
    }
    if (given[key] !== undefined) result[key] = given[key];
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Output sizes (sizes.py)

function perAxis(inputSize) {
  if (isInt(inputSize)) return [[inputSize], true];
  if (Array.isArray(inputSize) && inputSize.length > 0 && inputSize.every(isInt)) {
    return [[...inputSize], false];
  }
  throw typeError(`input_size must be an int or a sequence of ints, got ${repr(inputSize)}`);
}

function expand(value, name, n) {
  if (isInt(value)) return new Array(n).fill(value);
  if (Array.isArray(value) && value.length === n && value.every(isInt)) return [...value];
  throw typeError(`${name} must be an int or a sequence of ${n} ints, got ${repr(value)}`);
}

function checkRanges(sizes, kernel, stride, padding, dilation) {
  for (const [name, values, low] of [
    ["input_size", sizes, 1],
    ["kernel_size", kernel, 1],
    ["stride", stride, 1],
    ["dilation", dilation, 1],
    ["padding", padding, 0],
  ]) {
    if (Math.min(...values) < low) {
      throw valueError(`${name} must be ${low ? "positive" : "non-negative"}, got ${tup(values)}`);
    }
  }
}

function checkOutputPadding(outputPadding, stride, dilation) {
  for (let a = 0; a < outputPadding.length; a++) {
    const [op, s, d] = [outputPadding[a], stride[a], dilation[a]];
    if (op < 0) throw valueError(`output_padding must be non-negative, got ${tup(outputPadding)}`);
    if (!(op < s || op < d)) {
      throw valueError(`output_padding (${op}) must be smaller than stride (${s}) or dilation (${d})`);
    }
  }
}

/**
 * Spatial output size of a convolution (conv2d, pooling), per axis:
 * floor((input_size + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.
 * A number `input_size` gives a number, an array gives an array.
 * @param {number|number[]} input_size
 * @param {number|number[]} kernel_size
 * @param {{stride?, padding?, dilation?}} [opts]
 */
export function conv_output_size(input_size, kernel_size, opts) {
  const { stride, padding, dilation } = options("conv_output_size", opts, {
    stride: 1,
    padding: 0,
    dilation: 1,
  });
  const [sizes, scalar] = perAxis(input_size);
  const n = sizes.length;
  const k = expand(kernel_size, "kernel_size", n);
  const s = expand(stride, "stride", n);
  const p = expand(padding, "padding", n);
  const d = expand(dilation, "dilation", n);
  checkRanges(sizes, k, s, p, d);
  const out = sizes.map((i, a) => {
    const span = d[a] * (k[a] - 1) + 1;
    if (i + 2 * p[a] < span) {
      throw valueError(
        `input_size ${i} plus 2*padding (${2 * p[a]}) is smaller than the dilated kernel ` +
          `(${span}): the output would be empty`,
      );
    }
    return Math.floor((i + 2 * p[a] - span) / s[a]) + 1;
  });
  return scalar ? out[0] : out;
}

/**
 * Spatial output size of a transposed convolution, per axis:
 * (input_size - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
 * @param {number|number[]} input_size
 * @param {number|number[]} kernel_size
 * @param {{stride?, padding?, output_padding?, dilation?}} [opts]
 */
export function conv_transpose_output_size(input_size, kernel_size, opts) {
  const o = options("conv_transpose_output_size", opts, {
    stride: 1,
    padding: 0,
    output_padding: 0,
    dilation: 1,
  });
  const [sizes, scalar] = perAxis(input_size);
  const n = sizes.length;
  const k = expand(kernel_size, "kernel_size", n);
  const s = expand(o.stride, "stride", n);
  const p = expand(o.padding, "padding", n);
  const op = expand(o.output_padding, "output_padding", n);
  const d = expand(o.dilation, "dilation", n);
  checkRanges(sizes, k, s, p, d);
  checkOutputPadding(op, s, d);
  const out = sizes.map((i, a) => (i - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1);
  if (Math.min(...out) < 1) {
    throw valueError(
      `input_size ${tup(sizes)} gives output size ${tup(out)}, which is too small: ` +
        "reduce padding or increase stride or kernel_size",
    );
  }
  return scalar ? out[0] : out;
}

// ---------------------------------------------------------------------------------------
// Convolution (conv.py)

function convWeight(weight, inChannels, groups, op, transposed) {
  const w = asTensor(weight, "weight");
  groups = positiveInt(groups, "groups");
  const s = w.shape;
  if (s.length !== 4) throw valueError(`${op}: weight must have 4 dimensions, got shape ${tup(s)}`);
  if (Math.min(s[2], s[3]) < 1) {
    throw valueError(`${op}: weight's kernel size must be positive, got shape ${tup(s)}`);
  }
  if (transposed) {
    if (s[0] % groups) {
      throw valueError(
        `${op}: weight.shape[0] (${s[0]}, the input channels) must be divisible by groups (${groups})`,
      );
    }
    if (s[0] !== inChannels) {
      throw valueError(
        `${op}: weight of shape ${tup(s)} expects input with ${s[0]} channels ` +
          `(weight.shape[0]), but input has ${inChannels}`,
      );
    }
  } else {
    if (s[0] % groups) {
      throw valueError(
        `${op}: weight.shape[0] (${s[0]}, the output channels) must be divisible by groups (${groups})`,
      );
    }
    if (s[1] * groups !== inChannels) {
      throw valueError(
        `${op}: weight of shape ${tup(s)} with groups=${groups} expects input with ` +
          `${s[1] * groups} channels (weight.shape[1] * groups), but input has ${inChannels}`,
      );
    }
  }
  return [w, groups];
}

function biasOf(bias, outChannels, op) {
  if (bias === null || bias === undefined) return null;
  const b = asTensor(bias, "bias");
  if (b.shape.length !== 1 || b.shape[0] !== outChannels) {
    throw valueError(
      `${op}: bias must have shape (${outChannels},) (one value per output channel), got ${tup(b.shape)}`,
    );
  }
  return b;
}

function convPadding(padding, kernel, stride, dilation) {
  if (typeof padding === "string") {
    if (padding === "valid") return [0, 0, 0, 0];
    if (padding !== "same") {
      throw valueError(`padding must be an int, a pair, 'valid' or 'same', got ${repr(padding)}`);
    }
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw valueError(`padding='same' is not supported for strided convolutions (${tup(stride)})`);
    }
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  const [ph, pw] = nonNegativePair(padding, "padding");
  return [ph, ph, pw, pw];
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch), like upsampling.conv2d.
 * @param input tensor (N, C_in, H, W) or (C_in, H, W)
 * @param weight tensor (C_out, C_in / groups, kH, kW)
 * @param {{bias?, stride?, padding?, dilation?, groups?}} [opts] padding may be "valid"/"same"
 * @returns tensor (N, C_out, H_out, W_out), no batch axis if the input had none
 */
export function conv2d(input, weight, opts) {
  const o = options("conv2d", opts, { bias: null, stride: 1, padding: 0, dilation: 1, groups: 1 });
  const [x, unbatched] = spatialInput(input, "input", "conv2d");
  const [w, groups] = convWeight(weight, x.shape[1], o.groups, "conv2d", false);
  const [sh, sw] = positivePair(o.stride, "stride");
  const [dh, dw] = positivePair(o.dilation, "dilation");
  const [pt, pb, pl, pr] = convPadding(o.padding, w.shape.slice(2), [sh, sw], [dh, dw]);
  const b = biasOf(o.bias, w.shape[0], "conv2d");
  const [n, cIn, h, wd] = x.shape;
  const [cOut, cInG, kh, kw] = w.shape;
  const hp = h + pt + pb;
  const wp = wd + pl + pr;
  const spanH = dh * (kh - 1) + 1;
  const spanW = dw * (kw - 1) + 1;
  if (hp < spanH || wp < spanW) {
    throw valueError(
      `conv2d: the (dilated) kernel ${tup([spanH, spanW])} is larger than the padded input ` +
        `${tup([hp, wp])}: pad the input or use a smaller kernel_size or dilation`,
    );
  }
  const ho = Math.floor((hp - spanH) / sh) + 1;
  const wo = Math.floor((wp - spanW) / sw) + 1;
  const out = zeros([n, cOut, ho, wo]);
  const X = x.data;
  const W = w.data;
  const Y = out.data;
  const cOutG = cOut / groups;
  for (let b0 = 0; b0 < n; b0++) {
    for (let co = 0; co < cOut; co++) {
      const group = Math.floor(co / cOutG);
      const yBase = (b0 * cOut + co) * ho * wo;
      for (let ci = 0; ci < cInG; ci++) {
        const xBase = (b0 * cIn + group * cInG + ci) * h * wd;
        const wBase = (co * cInG + ci) * kh * kw;
        for (let a = 0; a < kh; a++) {
          for (let c = 0; c < kw; c++) {
            const wv = W[wBase + a * kw + c];
            for (let i = 0; i < ho; i++) {
              const r = i * sh + a * dh - pt;
              if (r < 0 || r >= h) continue;
              const xRow = xBase + r * wd;
              const yRow = yBase + i * wo;
              for (let j = 0; j < wo; j++) {
                const q = j * sw + c * dw - pl;
                if (q >= 0 && q < wd) Y[yRow + j] += wv * X[xRow + q];
              }
            }
          }
        }
      }
      if (b) for (let k = 0; k < ho * wo; k++) Y[yBase + k] += b.data[co];
    }
  }
  return unbatch(out, unbatched);
}

/**
 * The matrix C of a convolution, like upsampling.conv_matrix: for one image x of shape
 * (C_in, H, W), conv2d(x).ravel() == C @ x.ravel(); C has shape
 * (C_out*H_out*W_out, C_in*H*W), and its transpose is the transposed convolution.
 * @param weight tensor (C_out, C_in / groups, kH, kW)
 * @param {number|number[]} input_size (H, W)
 * @param {{stride?, padding?, dilation?, groups?}} [opts]
 * @returns 2-D tensor
 */
export function conv_matrix(weight, input_size, opts) {
  const o = options("conv_matrix", opts, { stride: 1, padding: 0, dilation: 1, groups: 1 });
  const w = asTensor(weight, "weight");
  if (w.shape.length !== 4) {
    throw valueError(`conv_matrix: weight must have 4 dimensions, got shape ${tup(w.shape)}`);
  }
  const groups = positiveInt(o.groups, "groups");
  const [h, wd] = positivePair(input_size, "input_size");
  const stride = positivePair(o.stride, "stride");
  const padding = nonNegativePair(o.padding, "padding");
  const dilation = positivePair(o.dilation, "dilation");
  const [cOut, cInG, kh, kw] = w.shape;
  if (cOut % groups) {
    throw valueError(`weight.shape[0] (${cOut}) must be divisible by groups (${groups})`);
  }
  const [ho, wo] = conv_output_size([h, wd], [kh, kw], { stride, padding, dilation });
  const cols = cInG * groups * h * wd;
  const m = zeros([cOut * ho * wo, cols]);
  const cOutG = cOut / groups;
  for (let co = 0; co < cOut; co++) {
    const group = Math.floor(co / cOutG);
    for (let c = 0; c < cInG; c++) {
      const channel = group * cInG + c;
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const wv = w.data[((co * cInG + c) * kh + a) * kw + b];
          for (let i = 0; i < ho; i++) {
            const ii = i * stride[0] - padding[0] + a * dilation[0];
            if (ii < 0 || ii >= h) continue;
            for (let j = 0; j < wo; j++) {
              const jj = j * stride[1] - padding[1] + b * dilation[1];
              if (jj < 0 || jj >= wd) continue;
              const row = (co * ho + i) * wo + j;
              m.data[row * cols + (channel * h + ii) * wd + jj] += wv;
            }
          }
        }
      }
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------
// Transposed convolution (conv_transpose.py)

/** Checks of conv_transpose2d, in the package's order; returns everything it computed. */
function transposedSetup(op, input, weight, opts) {
  const o = options(op, opts, {
    bias: null,
    stride: 1,
    padding: 0,
    output_padding: 0,
    groups: 1,
    dilation: 1,
  });
  const [x, unbatched] = spatialInput(input, "input", "conv_transpose2d");
  const [w, groups] = convWeight(weight, x.shape[1], o.groups, "conv_transpose2d", true);
  const stride = positivePair(o.stride, "stride");
  const padding = nonNegativePair(o.padding, "padding");
  const outputPadding = nonNegativePair(o.output_padding, "output_padding");
  const dilation = positivePair(o.dilation, "dilation");
  checkOutputPadding(outputPadding, stride, dilation);
  if (Math.min(x.shape[2], x.shape[3]) < 1) {
    throw valueError(`conv_transpose2d: input has an empty spatial size ${tup(x.shape.slice(2))}`);
  }
  const outSize = conv_transpose_output_size(x.shape.slice(2), w.shape.slice(2), {
    stride,
    padding,
    output_padding: outputPadding,
    dilation,
  });
  const b = biasOf(o.bias, w.shape[1] * groups, "conv_transpose2d");
  return { x, unbatched, w, groups, stride, padding, outputPadding, dilation, outSize, b };
}

/**
 * 2-D transposed convolution, like upsampling.conv_transpose2d (and PyTorch's): each
 * input value scales a copy of its kernel, copies are placed `stride` apart (taps
 * `dilation` apart) and summed, `padding` rows/columns are cropped from every side and
 * `output_padding` more are kept at the bottom/right.
 * @param input tensor (N, C_in, H_in, W_in) or (C_in, H_in, W_in)
 * @param weight tensor (C_in, C_out / groups, kH, kW)
 * @param {{bias?, stride?, padding?, output_padding?, groups?, dilation?}} [opts]
 * @returns tensor (N, C_out, H_out, W_out), no batch axis if the input had none
 */
export function conv_transpose2d(input, weight, opts) {
  const s = transposedSetup("conv_transpose2d", input, weight, opts);
  const { x, w, groups, b } = s;
  const [n, cIn, h, wd] = x.shape;
  const [, cOutG, kh, kw] = w.shape;
  const [ho, wo] = s.outSize;
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const [ph, pw] = s.padding;
  const cOut = cOutG * groups;
  const cInG = cIn / groups;
  const out = zeros([n, cOut, ho, wo]);
  const X = x.data;
  const W = w.data;
  const Y = out.data;
  for (let b0 = 0; b0 < n; b0++) {
    for (let c = 0; c < cIn; c++) {
      const group = Math.floor(c / cInG);
      const xBase = (b0 * cIn + c) * h * wd;
      for (let co = 0; co < cOutG; co++) {
        const yBase = (b0 * cOut + group * cOutG + co) * ho * wo;
        const wBase = (c * cOutG + co) * kh * kw;
        for (let a = 0; a < kh; a++) {
          for (let bb = 0; bb < kw; bb++) {
            const wv = W[wBase + a * kw + bb];
            // The columns j whose copy lands inside the output: 0 <= j sw + bb dw - pw < wo.
            const shift = bb * dw - pw;
            const j0 = Math.max(0, Math.ceil(-shift / sw));
            const j1 = Math.min(wd, Math.floor((wo - 1 - shift) / sw) + 1);
            for (let i = 0; i < h; i++) {
              const r = i * sh + a * dh - ph;
              if (r < 0 || r >= ho) continue;
              const yAt = yBase + r * wo + shift;
              const xRow = xBase + i * wd;
              for (let j = j0; j < j1; j++) Y[yAt + j * sw] += X[xRow + j] * wv;
            }
          }
        }
      }
    }
  }
  if (b) {
    for (let b0 = 0; b0 < n; b0++) {
      for (let co = 0; co < cOut; co++) {
        const base = (b0 * cOut + co) * ho * wo;
        for (let k = 0; k < ho * wo; k++) Y[base + k] += b.data[co];
      }
    }
  }
  return unbatch(out, s.unbatched);
}

/**
 * The transposed convolution as the chapter tells it: one input value at a time, each
 * adding a scaled copy of its kernel to the uncropped ("full") result. Takes exactly the
 * arguments of conv_transpose2d and raises what it raises.
 *
 * Returns `{steps, full, output, crop}`:
 * - `steps[t]` for t = 0, 1, ... in the order n, c_in, i, j (batch, input channel, row,
 *   column; row-major over the input): `{n, c_in, i, j, value, rows, cols, c_out, partial}`.
 *   `value` is input[n, c_in, i, j]; the copy `value * weight[c_in]` is added to
 *   full[n, c_out[0]:c_out[1], rows[0]:rows[1]:dilation[0], cols[0]:cols[1]:dilation[1]]
 *   (half-open ranges [start, stop); taps lie `dilation` apart within them, so with
 *   dilation 1 the block is rows[0]..rows[1]-1 by cols[0]..cols[1]-1; c_out is the
 *   output channels of c_in's group). `partial` is a tensor of `full`'s shape: the
 *   uncropped sum after this step and every earlier one (bias not included), made when
 *   it is first read. A demo showing step t reads steps[t].partial.
 * - `full`: the uncropped sum of all copies, shape (N, C_out, FH, FW) (no batch axis if
 *   the input had none), FH = (H_in - 1) stride + dilation (kH - 1) + 1 + output_padding;
 *   equal to the last step's `partial`. No bias.
 * - `crop`: `{top, left, height, width}`: output = full[..., top:top+height,
 *   left:left+width] (+ bias); top/left are the padding, height/width the output size.
 * - `output`: exactly conv_transpose2d's result (cropped, bias added).
 */
export function conv_transpose2d_steps(input, weight, opts) {
  const s = transposedSetup("conv_transpose2d_steps", input, weight, opts);
  const { x, w, groups, b } = s;
  const [n, cIn, h, wd] = x.shape;
  const [, cOutG, kh, kw] = w.shape;
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const cOut = cOutG * groups;
  const cInG = cIn / groups;
  const fh = (h - 1) * sh + dh * (kh - 1) + 1 + s.outputPadding[0];
  const fw = (wd - 1) * sw + dw * (kw - 1) + 1 + s.outputPadding[1];
  const fullShape = s.unbatched ? [cOut, fh, fw] : [n, cOut, fh, fw];
  // Adds input[b0, c, i, j]'s copy of the kernel to `target` (a full result's data).
  const addCopy = (target, { n: b0, c_in: c, i, j, value }) => {
    const group = Math.floor(c / cInG);
    for (let co = 0; co < cOutG; co++) {
      const yBase = (b0 * cOut + group * cOutG + co) * fh * fw;
      const wBase = (c * cOutG + co) * kh * kw;
      for (let a = 0; a < kh; a++) {
        const row = yBase + (i * sh + a * dh) * fw + j * sw;
        for (let bb = 0; bb < kw; bb++) target[row + bb * dw] += value * w.data[wBase + a * kw + bb];
      }
    }
  };
  // A step's partial sum is made when it is first read (the same additions in the same
  // order as `full`'s): a demo reads one step's, and 64 copies of a 44×44 result on every
  // change are 1.3 MB for the garbage collector.
  const partialAt = (t) => {
    const data = new Float64Array(n * cOut * fh * fw);
    for (let k = 0; k <= t; k++) addCopy(data, steps[k]);
    return { shape: [...fullShape], data };
  };
  const acc = new Float64Array(n * cOut * fh * fw);
  const steps = [];
  for (let b0 = 0; b0 < n; b0++) {
    for (let c = 0; c < cIn; c++) {
      const group = Math.floor(c / cInG);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < wd; j++) {
          const t = steps.length;
          const step = {
            n: b0,
            c_in: c,
            i,
            j,
            value: x.data[((b0 * cIn + c) * h + i) * wd + j],
            rows: [i * sh, i * sh + dh * (kh - 1) + 1],
            cols: [j * sw, j * sw + dw * (kw - 1) + 1],
            c_out: [group * cOutG, (group + 1) * cOutG],
          };
          let partial = null;
          Object.defineProperty(step, "partial", { enumerable: true, get: () => (partial ??= partialAt(t)) });
          addCopy(acc, step);
          steps.push(step);
        }
      }
    }
  }
  const full = { shape: fullShape, data: acc };
  const [ho, wo] = s.outSize;
  const [top, left] = s.padding;
  const out = zeros([n, cOut, ho, wo]);
  for (let p = 0; p < n * cOut; p++) {
    const bias = b ? b.data[p % cOut] : 0;
    for (let r = 0; r < ho; r++) {
      for (let q = 0; q < wo; q++) {
        out.data[(p * ho + r) * wo + q] = acc[(p * fh + r + top) * fw + q + left] + bias;
      }
    }
  }
  return {
    steps,
    full,
    output: unbatch(out, s.unbatched),
    crop: { top, left, height: ho, width: wo },
  };
}

// ---------------------------------------------------------------------------------------
// Overlap counts (overlap.py)

const LAYER_KEYS = ["kernel_size", "stride", "padding", "dilation"];

/**
 * How many kernel copies land on each output position of a transposed convolution, like
 * upsampling.overlap_counts: the transposed convolution of ones with a ones kernel, layer
 * after layer. A number `input_size` gives a 1-D count (shape [L]), a pair a 2-D map.
 * `layers` is a number (that many identical layers) or an array with one object per
 * layer whose keys among kernel_size, stride, padding, dilation override the arguments
 * for that layer: overlap_counts(2, 3, {stride: 2, layers: [{}, {kernel_size: 4}]}).
 * @param {number|number[]} input_size
 * @param {number|number[]} kernel_size
 * @param {{stride?, padding?, dilation?, layers?}} [opts]
 * @returns tensor of integer counts
 */
export function overlap_counts(input_size, kernel_size, opts) {
  const o = options("overlap_counts", opts, { stride: 1, padding: 0, dilation: 1, layers: 1 });
  const oneD = isInt(input_size);
  const size = positivePair(input_size, "input_size");
  if (oneD) size[0] = 1;
  const defaults = { kernel_size, stride: o.stride, padding: o.padding, dilation: o.dilation };
  // Ones through ones kernels: the map is the outer product of one count per axis, so each
  // axis is a 1-D transposed convolution (the same integers, in linear time).
  let rows = new Float64Array(size[0]).fill(1);
  let cols = new Float64Array(size[1]).fill(1);
  for (const [kernel, stride, padding, dilation] of overlapLayers(o.layers, defaults, oneD)) {
    const sizes = [rows.length, cols.length];
    const out = sizes.map((n, a) => (n - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1) + 1);
    if (Math.min(...out) < 1) {
      throw valueError(
        `input_size ${tup(sizes)} gives output size ${tup(out)}, which is too small: ` +
          "reduce padding or increase stride or kernel_size",
      );
    }
    rows = spread(rows, out[0], kernel[0], stride[0], padding[0], dilation[0]);
    cols = spread(cols, out[1], kernel[1], stride[1], padding[1], dilation[1]);
  }
  if (oneD) return { shape: [cols.length], data: cols };
  const data = new Float64Array(rows.length * cols.length);
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols.length; j++) data[i * cols.length + j] = rows[i] * cols[j];
  }
  return { shape: [rows.length, cols.length], data };
}

/** The 1-D transposed convolution of `values` with a ones kernel, cropped to `length`. */
function spread(values, length, kernel, stride, padding, dilation) {
  const out = new Float64Array(length);
  for (let i = 0; i < values.length; i++) {
    for (let a = 0; a < kernel; a++) {
      const o = i * stride + a * dilation - padding;
      if (o >= 0 && o < length) out[o] += values[i];
    }
  }
  return out;
}

function overlapLayers(layers, defaults, oneD) {
  let entries;
  if (isInt(layers)) {
    entries = new Array(positiveInt(layers, "layers")).fill({});
  } else if (Array.isArray(layers) && layers.every(isPlainObject)) {
    if (layers.length === 0) {
      throw valueError("layers must hold at least one layer, got an empty sequence");
    }
    entries = layers;
  } else {
    throw typeError(
      "layers must be an int or a sequence of mappings (one per layer, with keys among " +
        `${LAYER_KEYS.join(", ")}), got ${repr(layers)}`,
    );
  }
  const checks = [positivePair, positivePair, nonNegativePair, positivePair];
  return entries.map((entry, index) => {
    const unknown = Object.keys(entry).filter((key) => !LAYER_KEYS.includes(key));
    if (unknown.length) {
      throw typeError(
        `layers[${index}] has the key ${pyStr(unknown[0])}; the keys of a layer are ${LAYER_KEYS.join(", ")}`,
      );
    }
    return LAYER_KEYS.map((key, k) => {
      const given = Object.prototype.hasOwnProperty.call(entry, key);
      const name = given ? `${key} of layers[${index}]` : key;
      const value = given ? entry[key] : defaults[key];
      if (oneD && !isInt(value)) {
        throw typeError(`${name} must be an int for a 1-D count, got ${repr(value)}`);
      }
      const p = checks[k](value, name);
      if (oneD) p[0] = key === "padding" ? 0 : 1; // the single row: one tap, no padding
      return p;
    });
  });
}

// ---------------------------------------------------------------------------------------
// Checkerboard measures and kernels (checkerboard.py)

/**
 * Sum of the kernel taps that land on each output phase of a transposed convolution,
 * like upsampling.checkerboard.phase_sums: out[..., a, b] = weight[..., a::s_h, b::s_w].sum().
 * @param weight tensor (..., kH, kW)
 * @param {number|number[]} stride
 * @returns tensor (..., s_h, s_w)
 */
export function phase_sums(weight, stride) {
  const w = asTensor(weight, "weight");
  if (w.shape.length < 2) {
    throw valueError(`weight must have at least 2 dimensions (kH, kW), got shape ${tup(w.shape)}`);
  }
  const [sh, sw] = positivePair(stride, "stride");
  const [kh, kw] = w.shape.slice(-2);
  const lead = sizeOf(w.shape.slice(0, -2));
  const out = zeros([...w.shape.slice(0, -2), sh, sw]);
  for (let p = 0; p < lead; p++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        out.data[(p * sh + (a % sh)) * sw + (b % sw)] += w.data[(p * kh + a) * kw + b];
      }
    }
  }
  return out;
}

/** `_crop` of checkerboard.py: returns [tensor view info, stride]. */
function checkerCrop(x, stride, border, name, unit, strideName = "stride") {
  const t = asTensor(x, name);
  if (t.shape.length < 2) {
    throw valueError(`${name} must have at least 2 dimensions (H, W), got shape ${tup(t.shape)}`);
  }
  const s = positivePair(stride, strideName);
  const b = nonNegativePair(border, "border");
  const [h, w] = t.shape.slice(-2);
  const inner = [h - 2 * b[0], w - 2 * b[1]];
  const kept = [Math.floor(inner[0] / s[0]) * s[0], Math.floor(inner[1] / s[1]) * s[1]];
  if (Math.min(...kept) < 1) {
    throw valueError(
      `${name} of spatial size ${tup([h, w])} with border ${tup(b)} leaves ${tup(inner)}, ` +
        `less than one ${unit} ${tup(s)}: nothing to measure`,
    );
  }
  const lead = t.shape.slice(0, -2);
  const out = zeros([...lead, kept[0], kept[1]]);
  const planes = sizeOf(lead);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < kept[0]; i++) {
      const src = (p * h + i + b[0]) * w + b[1];
      out.data.set(t.data.subarray(src, src + kept[1]), (p * kept[0] + i) * kept[1]);
    }
  }
  return [out, s];
}

function phaseMeansOfCropped(c, sh, sw) {
  const [h, w] = c.shape.slice(-2);
  const planes = sizeOf(c.shape.slice(0, -2));
  const out = zeros([sh, sw]);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) out.data[(i % sh) * sw + (j % sw)] += c.data[(p * h + i) * w + j];
    }
  }
  const count = (planes * h * w) / (sh * sw);
  for (let k = 0; k < sh * sw; k++) out.data[k] /= count;
  return out;
}

/**
 * Mean of each of the stride x stride phases x[..., a::s_h, b::s_w], like
 * upsampling.checkerboard.phase_means (x cropped by `border`, then to a multiple of stride).
 * @param x tensor, at least 2-D (..., H, W)
 * @param {number|number[]} stride
 * @param {{border?}} [opts]
 * @returns tensor (s_h, s_w)
 */
export function phase_means(x, stride, opts) {
  const { border } = options("phase_means", opts, { border: 0 });
  const [cropped, [sh, sw]] = checkerCrop(x, stride, border, "x", "stride");
  return phaseMeansOfCropped(cropped, sh, sw);
}

function meanAbs(data) {
  let total = 0;
  for (let k = 0; k < data.length; k++) total += Math.abs(data[k]);
  return total / data.length;
}

/**
 * std(phase means) / mean(|x|) over the cropped x, like upsampling.checkerboard_score;
 * 0 for an all-zero x.
 * @param x tensor, at least 2-D
 * @param {number|number[]} stride
 * @param {{border?}} [opts]
 * @returns {number}
 */
export function checkerboard_score(x, stride, opts) {
  const { border } = options("checkerboard_score", opts, { border: 0 });
  const [cropped, [sh, sw]] = checkerCrop(x, stride, border, "x", "stride");
  const scale = meanAbs(cropped.data);
  if (scale === 0) return 0;
  const means = phaseMeansOfCropped(cropped, sh, sw).data;
  return std(means) / scale;
}

function std(values) {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return Math.sqrt(sq / values.length);
}

/** `_tiles` and the plane fit of checkerboard.py: the detrended tiles' phase means. */
function localMeans(x, stride, window, border) {
  const s = positivePair(stride, "stride");
  const n = positivePair(window, "window");
  const tile = [s[0] * n[0], s[1] * n[1]];
  const [cropped] = checkerCrop(x, tile, border, "x", "tile (window * stride)");
  const lead = cropped.shape.slice(0, -2);
  const [h, w] = cropped.shape.slice(-2);
  const [th, tw] = tile;
  const [tilesH, tilesW] = [h / th, w / tw];
  const planes = sizeOf(lead);
  const out = zeros([...lead, tilesH, tilesW, s[0], s[1]]);
  // The least-squares plane c0 + c1 row + c2 col of a full th x tw grid: rows and columns
  // are orthogonal once centred, so c1 and c2 are two independent 1-D regressions (an
  // axis of length 1 has no slope: the fit is then a line or a constant, as pinv gives).
  const rowMean = (th - 1) / 2;
  const colMean = (tw - 1) / 2;
  const rowVar = (tw * th * (th * th - 1)) / 12;
  const colVar = (th * tw * (tw * tw - 1)) / 12;
  const cells = n[0] * n[1];
  for (let p = 0; p < planes; p++) {
    for (let ti = 0; ti < tilesH; ti++) {
      for (let tj = 0; tj < tilesW; tj++) {
        let sum = 0;
        let rowDot = 0;
        let colDot = 0;
        for (let r = 0; r < th; r++) {
          const base = (p * h + ti * th + r) * w + tj * tw;
          for (let c = 0; c < tw; c++) {
            const v = cropped.data[base + c];
            sum += v;
            rowDot += (r - rowMean) * v;
            colDot += (c - colMean) * v;
          }
        }
        const mean = sum / (th * tw);
        const slopeR = th > 1 ? rowDot / rowVar : 0;
        const slopeC = tw > 1 ? colDot / colVar : 0;
        const o = (((p * tilesH + ti) * tilesW + tj) * s[0]) * s[1];
        for (let r = 0; r < th; r++) {
          const base = (p * h + ti * th + r) * w + tj * tw;
          for (let c = 0; c < tw; c++) {
            const fit = mean + slopeR * (r - rowMean) + slopeC * (c - colMean);
            out.data[o + (r % s[0]) * s[1] + (c % s[1])] += cropped.data[base + c] - fit;
          }
        }
        for (let k = 0; k < s[0] * s[1]; k++) out.data[o + k] /= cells;
      }
    }
  }
  return [out, cropped, s];
}

/**
 * Phase means of the detrended window x window-cell tiles of every image, like
 * upsampling.checkerboard.local_phase_means.
 * @param x tensor, at least 2-D
 * @param {number|number[]} stride
 * @param {{window?, border?}} [opts]
 * @returns tensor (...leading, tiles_h, tiles_w, s_h, s_w)
 */
export function local_phase_means(x, stride, opts) {
  const o = options("local_phase_means", opts, { window: 4, border: 0 });
  return localMeans(x, stride, o.window, o.border)[0];
}

/**
 * sqrt(mean over tiles of var(phase means in the tile)) / mean(|x|), like
 * upsampling.checkerboard.local_checkerboard_score; 0 for an all-zero x.
 * @param x tensor, at least 2-D
 * @param {number|number[]} stride
 * @param {{window?, border?}} [opts]
 * @returns {number}
 */
export function local_checkerboard_score(x, stride, opts) {
  const o = options("local_checkerboard_score", opts, { window: 4, border: 0 });
  const [means, cropped, s] = localMeans(x, stride, o.window, o.border);
  const scale = meanAbs(cropped.data);
  if (scale === 0) return 0;
  const phases = s[0] * s[1];
  const tiles = means.data.length / phases;
  let spread = 0;
  for (let t = 0; t < tiles; t++) {
    const sd = std(means.data.subarray(t * phases, (t + 1) * phases));
    spread += sd * sd;
  }
  return Math.sqrt(spread / tiles) / scale;
}

/**
 * The (k, k) bilinear-interpolation kernel for an integer factor (FCN's initialisation),
 * like upsampling.checkerboard.bilinear_kernel: k = 2 s - s % 2.
 * @param {number} scale_factor
 * @returns tensor (k, k)
 */
export function bilinear_kernel(scale_factor) {
  const s = positiveInt(scale_factor, "scale_factor");
  const k = 2 * s - (s % 2);
  const centre = k % 2 ? s - 1 : s - 0.5;
  const tent = Array.from({ length: k }, (_, i) => 1 - Math.abs(i - centre) / s);
  const out = zeros([k, k]);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out.data[i * k + j] = tent[i] * tent[j];
  return out;
}

/**
 * ICNR initialisation of a sub-pixel convolution, like upsampling.checkerboard.icnr_weight:
 * each of the C_out filters repeated r**2 times. The package's random decoders draw their
 * weights with numpy's generator, which this module does not reproduce: give it the
 * kernel the page holds.
 * @param weight tensor (C_out, C_in, kH, kW)
 * @param {{upscale_factor?}} [opts] default 2
 * @returns tensor (C_out * r**2, C_in, kH, kW)
 */
export function icnr_weight(weight, opts) {
  const o = options("icnr_weight", opts, { upscale_factor: 2 });
  const w = asTensor(weight, "weight");
  if (w.shape.length !== 4) {
    throw valueError(`weight must have shape (C_out, C_in, kH, kW), got ${tup(w.shape)}`);
  }
  const r = positiveInt(o.upscale_factor, "upscale_factor");
  const [cOut, ...rest] = w.shape;
  const filter = sizeOf(rest);
  const out = zeros([cOut * r * r, ...rest]);
  for (let c = 0; c < cOut; c++) {
    const src = w.data.subarray(c * filter, (c + 1) * filter);
    for (let k = 0; k < r * r; k++) out.data.set(src, (c * r * r + k) * filter);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Max pooling and unpooling (pooling.py)

function pooledLength(size, kernel, stride, padding, dilation, ceilMode) {
  const span = dilation * (kernel - 1) + 1;
  let out = Math.floor((size + 2 * padding - span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padding) out -= 1;
  return out;
}

function checkNotEmpty(shape, op, what) {
  if (shape.includes(0)) throw valueError(`${op}: input must have non-zero ${what}, got shape ${tup(shape)}`);
}

function firstTap(o, stride, padding, dilation) {
  const start = o * stride - padding;
  return start < 0 ? start + Math.ceil(-start / dilation) * dilation : start;
}

/**
 * 2-D max pooling, like upsampling.max_pool2d (PyTorch's): -inf padding, the first
 * maximum in scan order wins a tie, a NaN always wins (the last of several).
 * @param input tensor (N, C, H, W) or (C, H, W)
 * @param {number|number[]} kernel_size
 * @param {{stride?, padding?, dilation?, ceil_mode?, return_indices?}} [opts] stride
 *   null (the default) means kernel_size
 * @returns the maxima, or [maxima, indices] with return_indices (flat h * W + w
 *   positions in each input plane, as integer-valued float64)
 */
export function max_pool2d(input, kernel_size, opts) {
  const o = options("max_pool2d", opts, {
    stride: null,
    padding: 0,
    dilation: 1,
    ceil_mode: false,
    return_indices: false,
  });
  const [x, unbatched] = spatialInput(input, "input", "max_pool2d");
  const kernel = positivePair(kernel_size, "kernel_size");
  const steps = o.stride === null ? kernel : positivePair(o.stride, "stride");
  const pads = nonNegativePair(o.padding, "padding");
  const dils = positivePair(o.dilation, "dilation");
  if (pads[0] > Math.floor(kernel[0] / 2) || pads[1] > Math.floor(kernel[1] / 2)) {
    throw valueError(
      `padding ${tup(pads)} must be at most half of kernel_size ${tup(kernel)}, rounded down, ` +
        `i.e. at most ${tup([Math.floor(kernel[0] / 2), Math.floor(kernel[1] / 2)])}`,
    );
  }
  checkNotEmpty(x.shape.slice(1), "max_pool2d", "channels, height and width");
  const [n, c, h, w] = x.shape;
  const outHW = [0, 1].map((a) =>
    pooledLength(x.shape[2 + a], kernel[a], steps[a], pads[a], dils[a], Boolean(o.ceil_mode)),
  );
  if (Math.min(...outHW) < 1) {
    throw valueError(
      `max_pool2d: input of size ${tup([h, w])} is too small for kernel_size ${tup(kernel)}, ` +
        `stride ${tup(steps)}, padding ${tup(pads)}, dilation ${tup(dils)}: the output size ` +
        `would be ${tup(outHW)}, but it must be at least (1, 1)`,
    );
  }
  const [oh, ow] = outHW;
  const out = zeros([n, c, oh, ow]);
  const idx = zeros([n, c, oh, ow]);
  for (let p = 0; p < n * c; p++) {
    const plane = p * h * w;
    for (let i = 0; i < oh; i++) {
      const row0 = i * steps[0] - pads[0];
      const firstRow = firstTap(i, steps[0], pads[0], dils[0]);
      for (let j = 0; j < ow; j++) {
        const col0 = j * steps[1] - pads[1];
        let best = -Infinity;
        let where = firstRow * w + firstTap(j, steps[1], pads[1], dils[1]);
        for (let a = 0; a < kernel[0]; a++) {
          const r = row0 + a * dils[0];
          if (r < 0 || r >= h) continue;
          for (let b = 0; b < kernel[1]; b++) {
            const q = col0 + b * dils[1];
            if (q < 0 || q >= w) continue;
            const v = x.data[plane + r * w + q];
            if (v > best || Number.isNaN(v)) {
              best = v;
              where = r * w + q;
            }
          }
        }
        out.data[(p * oh + i) * ow + j] = best;
        idx.data[(p * oh + i) * ow + j] = where;
      }
    }
  }
  const result = [unbatch(out, unbatched), unbatch(idx, unbatched)];
  return o.return_indices ? result : result[0];
}

function unpoolSize(outputSize, defaults, stride) {
  if (outputSize === null) return defaults;
  if (!Array.isArray(outputSize) || !outputSize.every(isInt)) {
    throw typeError(
      `output_size must be a sequence of 2 or 4 ints (the last two are used), got ${repr(outputSize)}`,
    );
  }
  if (outputSize.length !== 2 && outputSize.length !== 4) {
    throw valueError(
      `output_size must have 2 or 4 elements (the last two are used), ` +
        `got ${outputSize.length}: ${tup(outputSize)}`,
    );
  }
  const size = outputSize.slice(-2);
  const low = defaults.map((d, a) => d - stride[a]);
  const high = defaults.map((d, a) => d + stride[a]);
  if (!size.every((v, a) => low[a] < v && v < high[a])) {
    throw valueError(
      `output_size ${tup(size)} must lie strictly between ${tup(low)} and ${tup(high)} ` +
        `(the default size ${tup(defaults)} ± stride ${tup(stride)})`,
    );
  }
  return size;
}

/**
 * Max unpooling, like upsampling.max_unpool2d: each value goes to its remembered flat
 * position in a zero plane; of two values at one position the later (C order) wins.
 * @param input tensor (N, C, H, W) or (C, H, W)
 * @param indices tensor of integer values, input's shape (max_pool2d's indices)
 * @param {number|number[]} kernel_size
 * @param {{stride?, padding?, output_size?}} [opts] output_size: 2 or 4 ints (last two used)
 * @returns tensor (N, C, H_out, W_out) or (C, H_out, W_out)
 */
export function max_unpool2d(input, indices, kernel_size, opts) {
  const o = options("max_unpool2d", opts, { stride: null, padding: 0, output_size: null });
  const [x, unbatched] = spatialInput(input, "input", "max_unpool2d");
  const idx = asTensor(indices, "indices");
  if (!idx.data.every(Number.isInteger)) {
    throw typeError("indices must hold integers, got dtype float64");
  }
  const inputShape = unbatched ? x.shape.slice(1) : x.shape;
  if (idx.shape.length !== inputShape.length || idx.shape.some((d, a) => d !== inputShape[a])) {
    throw valueError(`indices must have the shape of input ${tup(inputShape)}, got ${tup(idx.shape)}`);
  }
  const kernel = positivePair(kernel_size, "kernel_size");
  const steps = o.stride === null ? kernel : positivePair(o.stride, "stride");
  const pads = nonNegativePair(o.padding, "padding");
  checkNotEmpty(idx.shape.slice(1), "max_unpool2d", "sizes after the first dimension");
  const [n, c, h, w] = x.shape;
  const defaults = [0, 1].map((a) => (x.shape[2 + a] - 1) * steps[a] - 2 * pads[a] + kernel[a]);
  const size = unpoolSize(o.output_size, defaults, steps);
  if (Math.min(...size) < 0) {
    throw valueError(
      `max_unpool2d: the output size ${tup(size)} must be non-negative; for input size ` +
        `${tup([h, w])} it is (H - 1)*stride - 2*padding + kernel_size unless output_size ` +
        `is given (kernel_size ${tup(kernel)}, stride ${tup(steps)}, padding ${tup(pads)})`,
    );
  }
  const plane = size[0] * size[1];
  const out = zeros([n, c, size[0], size[1]]);
  if (plane > 0) {
    for (let k = 0; k < idx.data.length; k++) {
      const v = idx.data[k];
      if (v < 0 || v >= plane) {
        throw valueError(
          `indices contains ${v}, outside the output plane of size ${size[0]}x${size[1]} ` +
            `(valid indices are 0 to ${plane - 1})`,
        );
      }
    }
    const cells = h * w;
    for (let p = 0; p < n * c; p++) {
      for (let k = 0; k < cells; k++) out.data[p * plane + idx.data[p * cells + k]] = x.data[p * cells + k];
    }
  }
  return unbatch(out, unbatched);
}

// ---------------------------------------------------------------------------------------
// Interpolation (interpolate.py)

const MODES = ["nearest", "nearest-exact", "bilinear"];

function checkMode(mode, alignCorners, ndim) {
  if (!MODES.includes(mode)) {
    throw valueError(
      `mode ${repr(mode)} is not one of ${MODES.map(pyStr).join(", ")} ` +
        "(PyTorch's other modes are not implemented here)",
    );
  }
  if (mode !== "bilinear" && alignCorners !== null) {
    throw valueError(
      `align_corners (${repr(alignCorners)}) option can only be set with the interpolating ` +
        "modes: linear | bilinear | bicubic | trilinear",
    );
  }
  if (mode === "bilinear" && alignCorners !== null && typeof alignCorners !== "boolean") {
    throw typeError(`align_corners must be a bool or None, got ${repr(alignCorners)}`);
  }
  if (![3, 4, 5].includes(ndim)) {
    throw valueError(
      `interpolate: expected input with 3, 4 or 5 dimensions (N, C and 1 to 3 spatial), got ${ndim}`,
    );
  }
  if (mode === "bilinear" && ndim !== 4) {
    throw valueError(
      `mode 'bilinear' needs a 4-D input (N, C, H, W), got a ${ndim}-D input ` +
        "(PyTorch uses 'linear' for 3-D and 'trilinear' for 5-D)",
    );
  }
}

function interpPerAxis(value, name, dims, kind) {
  const isKind = kind === "int" ? isInt : isReal;
  if (isKind(value)) return new Array(dims).fill(value);
  if (Array.isArray(value)) {
    if (!value.every(isKind)) throw typeError(`${name} must hold only ${kind}s, got ${repr(value)}`);
    if (value.length !== dims) {
      throw valueError(
        `${name} ${tupRepr(value)} must have one entry per spatial dimension of the input (${dims})`,
      );
    }
    return [...value];
  }
  throw typeError(`${name} must be an ${kind} or a sequence of ${dims} ${kind}s, got ${repr(value)}`);
}

/** Python's repr of tuple(values) for values a caller passed. */
function tupRepr(values) {
  return values.length === 1 ? `(${repr(values[0])},)` : `(${values.map(repr).join(", ")})`;
}

function outputSizeAndScales(inSize, size, scaleFactor, recompute) {
  const dims = inSize.length;
  if (size !== null && scaleFactor !== null) {
    throw valueError(
      `give only one of size (${repr(size)}) and scale_factor (${repr(scaleFactor)}), not both`,
    );
  }
  if (size === null && scaleFactor === null) {
    throw valueError("give either size or scale_factor (both are None)");
  }
  if (size !== null) {
    if (recompute) {
      throw valueError(
        `recompute_scale_factor (${repr(recompute)}) is not meaningful with an explicit size (${repr(size)})`,
      );
    }
    const out = interpPerAxis(size, "size", dims, "int");
    if (Math.min(...out) < 1) throw valueError(`size ${tup(out)} must be positive in every dimension`);
    return [out, null];
  }
  const factors = interpPerAxis(scaleFactor, "scale_factor", dims, "real");
  if (!factors.every(Number.isFinite)) throw valueError(`scale_factor ${floatTup(factors)} must be finite`);
  const out = inSize.map((n, a) => Math.floor(n * factors[a]));
  if (Math.min(...out) < 1) {
    throw valueError(
      `scale_factor ${floatTup(factors)} gives output size ${tup(out)} for input size ` +
        `${tup(inSize)}; every output size must be positive`,
    );
  }
  return [out, recompute ? null : factors];
}

/** PyTorch's compute_scales_value in float32 (f32 true) or float64. */
function scaleOf(inSize, outSize, scaleFactor, f32) {
  if (scaleFactor !== null && scaleFactor !== undefined && scaleFactor > 0) {
    return f32 ? Math.fround(1 / scaleFactor) : 1 / scaleFactor;
  }
  return f32 ? Math.fround(inSize / outSize) : inSize / outSize;
}

/**
 * For each output position along one axis, the input position that nearest copies, like
 * upsampling.interpolate.nearest_source_index (PyTorch's float32 arithmetic).
 * @param {number} in_size
 * @param {number} out_size
 * @param {{scale_factor?, exact?}} [opts] exact: "nearest-exact" rather than "nearest"
 * @returns tensor [out_size] of integer values
 */
export function nearest_source_index(in_size, out_size, opts) {
  const o = options("nearest_source_index", opts, { scale_factor: null, exact: false });
  const scale = scaleOf(in_size, out_size, o.scale_factor, true);
  const out = zeros([out_size]);
  for (let i = 0; i < out_size; i++) {
    const src = o.exact
      ? Math.floor(Math.fround(scale * (i + 0.5)))
      : Math.floor(Math.fround(Math.fround(i) * scale));
    out.data[i] = Math.min(src, in_size - 1);
  }
  return out;
}

function nearest2dIndex(inSize, outSize, scaleFactor, exact) {
  if (!exact && outSize === inSize) return Float64Array.from({ length: outSize }, (_, i) => i);
  if (!exact && outSize === 2 * inSize) return Float64Array.from({ length: outSize }, (_, i) => i >> 1);
  return nearest_source_index(inSize, outSize, { scale_factor: scaleFactor, exact }).data;
}

/**
 * Along one axis: the two input positions each output blends and their weights, like
 * upsampling.interpolate.linear_source_weights in float64:
 * out[i] = w0[i] x[i0[i]] + w1[i] x[i1[i]].
 * @param {number} in_size
 * @param {number} out_size
 * @param {boolean} align_corners
 * @param {{scale_factor?}} [opts]
 * @returns {[i0, i1, w0, w1]} four tensors of shape [out_size]
 */
export function linear_source_weights(in_size, out_size, align_corners, opts) {
  const o = options("linear_source_weights", opts, { scale_factor: null });
  const [i0, i1, w0, w1] = [0, 1, 2, 3].map(() => zeros([out_size]));
  if (out_size === in_size) {
    for (let i = 0; i < out_size; i++) [i0.data[i], i1.data[i], w0.data[i]] = [i, i, 1];
    return [i0, i1, w0, w1];
  }
  const scale = align_corners
    ? out_size > 1
      ? (in_size - 1) / (out_size - 1)
      : 0
    : scaleOf(in_size, out_size, o.scale_factor, false);
  for (let i = 0; i < out_size; i++) {
    const src = align_corners ? scale * i : Math.max(scale * (i + 0.5) - 0.5, 0);
    const lo = Math.min(Math.floor(Math.fround(src)), in_size - 1);
    const frac = Math.min(Math.max(src - lo, 0), 1);
    i0.data[i] = lo;
    i1.data[i] = lo < in_size - 1 ? lo + 1 : lo;
    w1.data[i] = frac;
    w0.data[i] = 1 - frac;
  }
  return [i0, i1, w0, w1];
}

/**
 * Resizes the spatial dimensions of an (N, C, *spatial) tensor, like
 * upsampling.interpolate (PyTorch's F.interpolate): "nearest" and "nearest-exact" for 1 to
 * 3 spatial dimensions, "bilinear" (align_corners true or false) for 2. Give `size` or
 * `scale_factor` (any positive real, e.g. 2.37: it sets the output size floor(in * s) and,
 * unless recompute_scale_factor, the coordinate step 1 / s).
 * @param input tensor (N, C, L), (N, C, H, W) or (N, C, D, H, W)
 * @param {{size?, scale_factor?, mode?, align_corners?, recompute_scale_factor?, antialias?}} [opts]
 * @returns tensor (N, C, *out)
 */
export function interpolate(input, opts) {
  const o = options("interpolate", opts, {
    size: null,
    scale_factor: null,
    mode: "nearest",
    align_corners: null,
    recompute_scale_factor: null,
    antialias: false,
  });
  const x = asTensor(input, "input");
  checkMode(o.mode, o.align_corners, x.shape.length);
  const inSize = x.shape.slice(2);
  const [outSize, scales] = outputSizeAndScales(inSize, o.size, o.scale_factor, o.recompute_scale_factor);
  if (o.antialias) {
    if (o.mode === "bilinear") {
      throw new PackageError(
        "NotImplementedError",
        "antialias=True is not implemented here (PyTorch low-pass filters before " +
          "downsampling); use antialias=False",
      );
    }
    throw valueError(`antialias=True needs mode 'bilinear' and a 4-D input, got ${repr(o.mode)}`);
  }
  if (x.shape.slice(1).includes(0)) {
    throw valueError(
      `interpolate: input must have non-zero channels and spatial sizes, got ${tup(x.shape)}`,
    );
  }
  const scaleOfAxis = (a) => (scales === null ? null : scales[a]);
  if (o.mode === "bilinear") return bilinear(x, outSize, scaleOfAxis, Boolean(o.align_corners));
  const exact = o.mode === "nearest-exact";
  const index = inSize.map((n, a) =>
    x.shape.length === 4
      ? nearest2dIndex(n, outSize[a], scaleOfAxis(a), exact)
      : nearest_source_index(n, outSize[a], { scale_factor: scaleOfAxis(a), exact }).data,
  );
  return gather(x, outSize, index);
}

/** out[p, o1, o2, ...] = x[p, index[0][o1], index[1][o2], ...] over the spatial axes. */
function gather(x, outSize, index) {
  const planes = x.shape[0] * x.shape[1];
  const inSize = x.shape.slice(2);
  const out = zeros([x.shape[0], x.shape[1], ...outSize]);
  const inPlane = sizeOf(inSize);
  const outPlane = sizeOf(outSize);
  // Offsets of each output position's source within a plane, axis by axis.
  let offsets = Float64Array.of(0);
  let stride = inPlane;
  for (let a = 0; a < inSize.length; a++) {
    stride /= inSize[a];
    const next = new Float64Array(offsets.length * outSize[a]);
    for (let k = 0; k < offsets.length; k++) {
      for (let i = 0; i < outSize[a]; i++) next[k * outSize[a] + i] = offsets[k] + index[a][i] * stride;
    }
    offsets = next;
  }
  for (let p = 0; p < planes; p++) {
    const src = p * inPlane;
    const dst = p * outPlane;
    for (let k = 0; k < outPlane; k++) out.data[dst + k] = x.data[src + offsets[k]];
  }
  return out;
}

function bilinear(x, outSize, scaleOfAxis, alignCorners) {
  const [n, c, hIn, wIn] = x.shape;
  const [hOut, wOut] = outSize;
  const [h0, h1, a0, a1] = linear_source_weights(hIn, hOut, alignCorners, { scale_factor: scaleOfAxis(0) });
  const [w0, w1, b0, b1] = linear_source_weights(wIn, wOut, alignCorners, { scale_factor: scaleOfAxis(1) });
  const out = zeros([n, c, hOut, wOut]);
  const X = x.data;
  const Y = out.data;
  for (let p = 0; p < n * c; p++) {
    const src = p * hIn * wIn;
    const dst = p * hOut * wOut;
    for (let i = 0; i < hOut; i++) {
      const r0 = src + h0.data[i] * wIn;
      const r1 = src + h1.data[i] * wIn;
      const wa = a0.data[i];
      const wb = a1.data[i];
      for (let j = 0; j < wOut; j++) {
        const q0 = w0.data[j];
        const q1 = w1.data[j];
        const top = X[r0 + q0] * b0.data[j] + X[r0 + q1] * b1.data[j];
        const bottom = X[r1 + q0] * b0.data[j] + X[r1 + q1] * b1.data[j];
        Y[dst + i * wOut + j] = wa * top + wb * bottom;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Sub-pixel rearrangements (shuffle.py)

/**
 * (*, C r^2, H, W) -> (*, C, H r, W r), like upsampling.pixel_shuffle:
 * out[..., c, h r + i, w r + j] = input[..., c r r + i r + j, h, w].
 * @param input tensor with at least 3 dimensions
 * @param {number} upscale_factor
 */
export function pixel_shuffle(input, upscale_factor) {
  const x = asTensor(input, "input");
  const r = positiveInt(upscale_factor, "upscale_factor");
  if (x.shape.length < 3) {
    throw valueError(
      `pixel_shuffle: input must have at least 3 dimensions (*, C, H, W), got shape ${tup(x.shape)}`,
    );
  }
  const [channels, h, w] = x.shape.slice(-3);
  if (channels % (r * r)) {
    throw valueError(
      `pixel_shuffle: input channels (${channels}) must be divisible by upscale_factor**2 ` +
        `(${r}**2 = ${r * r})`,
    );
  }
  const c = channels / (r * r);
  const batch = x.shape.slice(0, -3);
  const out = zeros([...batch, c, h * r, w * r]);
  const total = sizeOf(batch) * c;
  for (let p = 0; p < total; p++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const src = (p * r * r + i * r + j) * h * w;
        for (let y = 0; y < h; y++) {
          const dst = (p * h * r + y * r + i) * w * r + j;
          for (let q = 0; q < w; q++) out.data[dst + q * r] = x.data[src + y * w + q];
        }
      }
    }
  }
  return out;
}

/**
 * (*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle, like
 * upsampling.pixel_unshuffle.
 * @param input tensor with at least 3 dimensions
 * @param {number} downscale_factor
 */
export function pixel_unshuffle(input, downscale_factor) {
  const x = asTensor(input, "input");
  const r = positiveInt(downscale_factor, "downscale_factor");
  if (x.shape.length < 3) {
    throw valueError(
      `pixel_unshuffle: input must have at least 3 dimensions (*, C, H, W), got shape ${tup(x.shape)}`,
    );
  }
  const [c, height, width] = x.shape.slice(-3);
  if (height % r || width % r) {
    throw valueError(
      `pixel_unshuffle: input height and width (${height}, ${width}) must be divisible ` +
        `by downscale_factor (${r})`,
    );
  }
  const [h, w] = [height / r, width / r];
  const batch = x.shape.slice(0, -3);
  const out = zeros([...batch, c * r * r, h, w]);
  const total = sizeOf(batch) * c;
  for (let p = 0; p < total; p++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const dst = (p * r * r + i * r + j) * h * w;
        for (let y = 0; y < h; y++) {
          const src = (p * height + y * r + i) * width + j;
          for (let q = 0; q < w; q++) out.data[dst + y * w + q] = x.data[src + q * r];
        }
      }
    }
  }
  return out;
}
