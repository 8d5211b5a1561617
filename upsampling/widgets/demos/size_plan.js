// The encoder-decoder size plan of chapter 1, in JavaScript: a mirror of
// upsampling.plots.sizes.size_plan (same arguments, same fields, the package's messages),
// held to it by tests/test_live_demos_ch124.py.
//
// size_plan(input_size, depth, {kernel_size, stride, padding, fix}) returns
// {encoder, decoder, kernel_size, stride, padding, fix, output}; each decoder step is
// {level, input, raw, skip, kernel_size, stride, padding, fixes, size}, each fix
// {name, value, size, error, target, before, after}, as the Python dataclasses hold them.
import { PackageError, conv_output_size, conv_transpose_output_size, repr } from "../ops.js";

/** The ways to make a skip connection line up, in the order the tracker lists them. */
export const FIXES = ["output_padding", "output_size", "crop", "pad"];

const valueError = (message) => new PackageError("ValueError", message);
const typeError = (message) => new PackageError("TypeError", message);

function perLevel(value, name, depth) {
  if (Number.isInteger(value)) return Array(depth).fill(value);
  if (Array.isArray(value) && value.every(Number.isInteger)) {
    if (value.length !== depth) {
      throw valueError(`${name} needs one value per level (${depth}), got ${repr(value)}`);
    }
    return [...value];
  }
  throw typeError(`${name} must be an int or a sequence of ints, got ${repr(value)}`);
}

/**
 * The output_padding that makes a transposed convolution return output_size (one axis):
 * a mirror of upsampling.sizes.output_padding_for_size, PyTorch's rule and message.
 */
export function output_padding_for_size(input_size, output_size, kernel_size, opts = {}) {
  const { stride = 1, padding = 0, dilation = 1 } = opts;
  for (const [name, value] of [["input_size", input_size], ["output_size", output_size]]) {
    if (!Number.isInteger(value)) throw typeError(`${name} must be an int, got ${repr(value)}`);
  }
  const smallest = conv_transpose_output_size(input_size, kernel_size, {
    stride, padding, output_padding: 0, dilation,
  });
  const largest = smallest + stride - 1;
  if (!(smallest <= output_size && output_size <= largest)) {
    throw valueError(
      `requested an output size of ${output_size}, but valid sizes range from ` +
        `${smallest} to ${largest} (for an input of ${input_size})`,
    );
  }
  return output_size - smallest;
}

function fix(name, value, size, error = null, target = "output", before = 0, after = 0) {
  return { name, value, size, error, target, before, after };
}

function skipFixes(input, raw, skip, kernel_size, stride, padding) {
  const gap = skip - raw;
  let byPadding;
  try {
    const size = conv_transpose_output_size(input, kernel_size, { stride, padding, output_padding: gap });
    byPadding = fix("output_padding", gap, size);
  } catch (error) {
    if (!(error instanceof PackageError) || error.name !== "ValueError") throw error;
    byPadding = fix("output_padding", gap, null, error.message);
  }
  let bySize;
  try {
    output_padding_for_size(input, skip, kernel_size, { stride, padding });
    bySize = fix("output_size", skip, skip);
  } catch (error) {
    if (!(error instanceof PackageError) || error.name !== "ValueError") throw error;
    bySize = fix("output_size", skip, null, error.message);
  }
  const [larger, smaller] = gap > 0 ? ["skip", "output"] : ["output", "skip"];
  const rows = Math.abs(gap);
  const half = Math.floor(rows / 2);
  return [
    byPadding,
    bySize,
    fix("crop", rows, Math.min(raw, skip), null, larger, half, rows - half),
    fix("pad", rows, Math.max(raw, skip), null, smaller, half, rows - half),
  ];
}

/**
 * Feature-map sizes of an encoder-decoder, per level, and where skips misalign; see
 * upsampling.plots.sizes.size_plan. Throws a PackageError where the package raises.
 */
export function size_plan(input_size, depth, opts = {}) {
  const { kernel_size = 3, stride = 2, padding = 1, fix: chosen = "output_padding" } = opts;
  if (!FIXES.includes(chosen)) {
    throw valueError(`fix must be one of ('${FIXES.join("', '")}'), got ${repr(chosen)}`);
  }
  if (!Number.isInteger(depth)) throw typeError(`depth must be an int, got ${repr(depth)}`);
  if (depth < 1) throw valueError(`depth must be positive, got ${repr(depth)}`);
  const kernels = perLevel(kernel_size, "kernel_size", depth);
  const strides = perLevel(stride, "stride", depth);
  const paddings = perLevel(padding, "padding", depth);
  const encoder = [input_size];
  for (let l = 0; l < depth; l++) {
    encoder.push(conv_output_size(encoder[l], kernels[l], { stride: strides[l], padding: paddings[l] }));
  }
  const decoder = [];
  let size = encoder[depth];
  for (let level = depth; level >= 1; level--) {
    const [k, s, p] = [kernels[level - 1], strides[level - 1], paddings[level - 1]];
    const raw = conv_transpose_output_size(size, k, { stride: s, padding: p });
    const skip = encoder[level - 1];
    const fixes = raw === skip ? [] : skipFixes(size, raw, skip, k, s, p);
    const after = raw === skip ? skip : fixes.find((f) => f.name === chosen).size;
    decoder.push({ level, input: size, raw, skip, kernel_size: k, stride: s, padding: p, fixes, size: after });
    size = after;
  }
  return {
    encoder,
    decoder,
    kernel_size: kernels,
    stride: strides,
    padding: paddings,
    fix: chosen,
    output: size,
  };
}
