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
            for (let i = 0; i < h; i++) {
              const r = i * sh + a * dh - ph;
              if (r < 0 || r >= ho) continue;
              const yRow = yBase + r * wo;
              const xRow = xBase + i * wd;
              for (let j = 0; j < wd; j++) {
                const q = j * sw + bb * dw - pw;
                if (q >= 0 && q < wo) Y[yRow + q] += X[xRow + j] * wv;
              }
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
 *   uncropped sum after this step and every earlier one (bias not included). A demo
 *   showing step t reads steps[t].partial; no step needs recomputing.
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
  const acc = new Float64Array(n * cOut * fh * fw);
  const steps = [];
  for (let b0 = 0; b0 < n; b0++) {
    for (let c = 0; c < cIn; c++) {
      const group = Math.floor(c / cInG);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < wd; j++) {
          const value = x.data[((b0 * cIn + c) * h + i) * wd + j];
          for (let co = 0; co < cOutG; co++) {
            const yBase = (b0 * cOut + group * cOutG + co) * fh * fw;
            const wBase = (c * cOutG + co) * kh * kw;
            for (let a = 0; a < kh; a++) {
              const row = yBase + (i * sh + a * dh) * fw + j * sw;
              for (let bb = 0; bb < kw; bb++) acc[row + bb * dw] += value * w.data[wBase + a * kw + bb];
            }
          }
          steps.push({
            n: b0,
            c_in: c,
            i,
            j,
            value,
            rows: [i * sh, i * sh + dh * (kh - 1) + 1],
            cols: [j * sw, j * sw + dw * (kw - 1) + 1],
            c_out: [group * cOutG, (group + 1) * cOutG],
            partial: { shape: [...fullShape], data: acc.slice() },
          });
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
