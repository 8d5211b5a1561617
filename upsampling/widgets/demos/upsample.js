// Chapter 2's fixed upsamplers by method name, in JavaScript: a mirror of
// upsampling.plots.unpooling.upsample and bed_of_nails (same methods, same messages),
// held to them by tests/test_live_demos_ch124.py. Interpolation itself is ops.js's.
import { PackageError, interpolate, repr } from "../ops.js";

/** The fixed upsampling methods of the chapter, as upsampling.plots.unpooling.METHODS. */
export const METHODS = ["nearest", "nearest-exact", "bilinear", "bilinear, align_corners", "bed of nails"];

const valueError = (message) => new PackageError("ValueError", message);

/** The method of METHODS that interpolate's (mode, align_corners) is, or bed of nails. */
export function methodOf(mode, align_corners) {
  return mode === "bilinear" && align_corners ? "bilinear, align_corners" : mode;
}

/** Bed of nails of a 2-D image (a tensor (H, W)) by an integer factor. */
function bedOfNails(image, s) {
  const [h, w] = image.shape;
  const data = new Float64Array(h * s * w * s);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) data[r * s * w * s + c * s] = image.data[r * w + c];
  }
  return { shape: [h * s, w * s], data };
}

/**
 * A 2-D image ({shape: [H, W], data}) upsampled by one of METHODS; the package's
 * upsample(image, method, scale_factor). Returns a tensor (H_out, W_out).
 */
export function upsample(image, method, scale_factor) {
  if (image.shape.length !== 2) {
    throw valueError(`image must be 2-D, got shape (${image.shape.join(", ")})`);
  }
  const [h, w] = image.shape;
  if (method === "bed of nails") {
    if (!Number.isInteger(scale_factor)) {
      throw valueError(
        `bed of nails needs an integer scale_factor, got ${repr(scale_factor)}: a value ` +
          "must land on a whole output pixel",
      );
    }
    if (scale_factor < 1) throw valueError(`scale_factor must be positive, got ${scale_factor}`);
    return bedOfNails(image, scale_factor);
  }
  if (!METHODS.includes(method)) {
    throw valueError(`method must be one of ('${METHODS.join("', '")}'), got ${repr(method)}`);
  }
  const mode = method === "bilinear, align_corners" ? "bilinear" : method;
  const align_corners = method === "bilinear, align_corners" ? true : method === "bilinear" ? false : null;
  const out = interpolate({ shape: [1, 1, h, w], data: image.data }, { scale_factor, mode, align_corners });
  return { shape: out.shape.slice(2), data: out.data };
}
