"""Independent honest solutions of ``03_transposed_conv``, written in different styles.

Each style answers all four functions the way a different student might: plain loops,
``tensordot`` over input positions, ``einsum`` over kernel offsets, zero insertion followed
by a correlation, and the matrix view. They are the calibration set of the similarity
check: none of their pairs may be flagged. ``COPIES`` are what a student who copies
does to a classmate's notebook: rename every variable, reformat, reorder independent
statements, rewrite the comments. Both must be flagged.

Values: answer-cell ``grade_id`` -> the code of that cell (the released signature and
docstring are put back by :func:`answers`).
"""

from __future__ import annotations

A = "03_transposed_conv"
SCATTER = "transposed-answer-conv_transpose2d_scatter"
CONV = "transposed-answer-conv_transpose2d"
MATRIX = "transposed-answer-conv_matrix"
MATRIX_T = "transposed-answer-conv_transpose2d_matrix"

LOOPS = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    rows, cols = input.shape
    k_rows, k_cols = weight.shape
    result = np.zeros((rows + k_rows - 1, cols + k_cols - 1))
    for r in range(rows):
        for c in range(cols):
            for u in range(k_rows):
                for v in range(k_cols):
                    result[r + u, c + v] += input[r, c] * weight[u, v]
    return result
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    stride_h, stride_w = pair(stride)
    pad_h, pad_w = pair(padding)
    extra_h, extra_w = pair(output_padding)
    batch, channels_in, rows, cols = input.shape
    channels_out, k_rows, k_cols = weight.shape[1], weight.shape[2], weight.shape[3]
    out_rows = (rows - 1) * stride_h - 2 * pad_h + k_rows + extra_h
    out_cols = (cols - 1) * stride_w - 2 * pad_w + k_cols + extra_w
    result = np.zeros((batch, channels_out, out_rows, out_cols))
    for b in range(batch):
        for ci in range(channels_in):
            for co in range(channels_out):
                for r in range(rows):
                    for c in range(cols):
                        for u in range(k_rows):
                            for v in range(k_cols):
                                y = r * stride_h + u - pad_h
                                x = c * stride_w + v - pad_w
                                if 0 <= y < out_rows and 0 <= x < out_cols:
                                    result[b, co, y, x] += input[b, ci, r, c] * weight[ci, co, u, v]
    if bias is not None:
        for co in range(channels_out):
            result[:, co] += bias[co]
    return result
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    k_rows, k_cols = weight.shape
    rows, cols = input_size
    stride_h, stride_w = pair(stride)
    pad_h, pad_w = pair(padding)
    out_rows = (rows + 2 * pad_h - k_rows) // stride_h + 1
    out_cols = (cols + 2 * pad_w - k_cols) // stride_w + 1
    result = np.zeros((out_rows * out_cols, rows * cols))
    for i in range(out_rows):
        for j in range(out_cols):
            for u in range(k_rows):
                for v in range(k_cols):
                    y = i * stride_h + u - pad_h
                    x = j * stride_w + v - pad_w
                    if y >= 0 and y < rows and x >= 0 and x < cols:
                        result[i * out_cols + j, y * cols + x] = weight[u, v]
    return result
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    stride_h, stride_w = pair(stride)
    pad_h, pad_w = pair(padding)
    k_rows, k_cols = weight.shape
    out_rows = (input.shape[0] - 1) * stride_h - 2 * pad_h + k_rows
    out_cols = (input.shape[1] - 1) * stride_w - 2 * pad_w + k_cols
    big = conv_matrix(weight, (out_rows, out_cols), stride, padding)
    flat = np.zeros(out_rows * out_cols)
    values = input.ravel()
    for i in range(big.shape[0]):
        for j in range(big.shape[1]):
            flat[j] += big[i, j] * values[i]
    return flat.reshape(out_rows, out_cols)
""",
}

TENSORDOT = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    h, w = input.shape
    kh, kw = weight.shape
    out = np.zeros((h + kh - 1, w + kw - 1))
    for i in range(h):
        for j in range(w):
            out[i : i + kh, j : j + kw] += input[i, j] * weight
    return out
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oh, ow = pair(output_padding)
    n, c_in, h, w = input.shape
    _, c_out, kh, kw = weight.shape
    # everything before cropping, with room for output_padding
    full = np.zeros((n, c_out, (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow))
    for i in range(h):
        for j in range(w):
            copies = np.tensordot(input[:, :, i, j], weight, axes=(1, 0))
            full[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += copies
    out = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    kh, kw = weight.shape
    h, w = input_size
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    matrix = np.zeros((ho * wo, h * w))
    for i in range(ho):
        for j in range(wo):
            image = np.zeros((h + 2 * ph, w + 2 * pw))
            image[i * sh : i * sh + kh, j * sw : j * sw + kw] = weight
            matrix[i * wo + j] = image[ph : ph + h, pw : pw + w].ravel()
    return matrix
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    kh, kw = weight.shape
    h = (input.shape[0] - 1) * sh - 2 * ph + kh
    w = (input.shape[1] - 1) * sw - 2 * pw + kw
    return np.tensordot(conv_matrix(weight, (h, w), stride, padding), input.ravel(),
                        axes=(0, 0)).reshape(h, w)
""",
}

EINSUM = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    H, W = input.shape
    KH, KW = weight.shape
    Y = np.zeros((H + KH - 1, W + KW - 1))
    # every kernel tap shifts a scaled copy of the whole input
    for a in range(KH):
        for b in range(KW):
            Y[a : a + H, b : b + W] += weight[a, b] * input
    return Y
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    (SH, SW), (PH, PW), (OH, OW) = pair(stride), pair(padding), pair(output_padding)
    N, CI, H, W = input.shape
    CO, KH, KW = weight.shape[1:]
    HO = (H - 1) * SH - 2 * PH + KH + OH
    WO = (W - 1) * SW - 2 * PW + KW + OW
    Y = np.zeros((N, CO, HO + 2 * PH, WO + 2 * PW))
    for a in range(KH):
        for b in range(KW):
            tap = np.einsum("nchw,cd->ndhw", input, weight[:, :, a, b])
            Y[:, :, a : a + (H - 1) * SH + 1 : SH, b : b + (W - 1) * SW + 1 : SW] += tap
    Y = Y[:, :, PH : PH + HO, PW : PW + WO]
    if bias is None:
        return Y
    return Y + bias.reshape(1, CO, 1, 1)
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    KH, KW = weight.shape
    H, W = input_size
    (SH, SW), (PH, PW) = pair(stride), pair(padding)
    HO = (H + 2 * PH - KH) // SH + 1
    WO = (W + 2 * PW - KW) // SW + 1
    eye = np.eye(H * W).reshape(H * W, H, W)
    eye = np.pad(eye, ((0, 0), (PH, PH), (PW, PW)))
    C = np.zeros((HO, WO, H * W))
    for a in range(KH):
        for b in range(KW):
            window = eye[:, a : a + (HO - 1) * SH + 1 : SH, b : b + (WO - 1) * SW + 1 : SW]
            C += weight[a, b] * np.einsum("khw->hwk", window)
    return C.reshape(HO * WO, H * W)
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    (SH, SW), (PH, PW) = pair(stride), pair(padding)
    KH, KW = weight.shape
    HO = (input.shape[0] - 1) * SH - 2 * PH + KH
    WO = (input.shape[1] - 1) * SW - 2 * PW + KW
    C = conv_matrix(weight, (HO, WO), stride, padding)
    return np.einsum("ij,i->j", C, input.ravel()).reshape(HO, WO)
""",
}

ZERO_INSERTION = {
    SCATTER: """
def correlate_full(image, kernel):
    # plain valid cross-correlation, the kernel slides over the image
    kh, kw = kernel.shape
    out_h = image.shape[0] - kh + 1
    out_w = image.shape[1] - kw + 1
    out = np.empty((out_h, out_w))
    for y in range(out_h):
        for x in range(out_w):
            out[y, x] = np.sum(image[y : y + kh, x : x + kw] * kernel)
    return out


def conv_transpose2d_scatter(input, weight):
    kh, kw = weight.shape
    padded = np.pad(input, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate_full(padded, weight[::-1, ::-1])
""",
    CONV: """
def insert_zeros(x, sh, sw):
    n, c, h, w = x.shape
    spread = np.zeros((n, c, (h - 1) * sh + 1, (w - 1) * sw + 1))
    spread[:, :, ::sh, ::sw] = x
    return spread


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    eh, ew = pair(output_padding)
    kh, kw = weight.shape[2], weight.shape[3]
    spread = insert_zeros(input, sh, sw)
    # pad by k - 1 - p on each side, plus output_padding at the far end
    spread = np.pad(spread, ((0, 0), (0, 0), (kh - 1, kh - 1 + eh), (kw - 1, kw - 1 + ew)))
    flipped = weight[:, :, ::-1, ::-1]
    out_h = spread.shape[2] - kh + 1
    out_w = spread.shape[3] - kw + 1
    out = np.zeros((input.shape[0], weight.shape[1], out_h, out_w))
    for y in range(out_h):
        for x in range(out_w):
            patch = spread[:, :, y : y + kh, x : x + kw]
            out[:, :, y, x] = np.einsum("nikl,iokl->no", patch, flipped)
    out = out[:, :, ph : out_h - ph, pw : out_w - pw]
    if bias is not None:
        out += bias[:, None, None]
    return out
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    h, w = input_size
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    kh, kw = weight.shape
    columns = []
    # column k of C is the convolution of the k-th unit image
    for k in range(h * w):
        unit = np.zeros(h * w)
        unit[k] = 1.0
        image = np.pad(unit.reshape(h, w), ((ph, ph), (pw, pw)))
        rows = []
        for y in range(0, image.shape[0] - kh + 1, sh):
            for x in range(0, image.shape[1] - kw + 1, sw):
                rows.append(np.sum(image[y : y + kh, x : x + kw] * weight))
        columns.append(rows)
    return np.array(columns).T
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    kh, kw = weight.shape
    size = ((input.shape[0] - 1) * sh - 2 * ph + kh, (input.shape[1] - 1) * sw - 2 * pw + kw)
    flat = conv_matrix(weight, size, stride, padding).T.dot(input.flatten())
    return flat.reshape(size)
""",
}

MATRIX_VIEW = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    height, width = input.shape
    kernel_h, kernel_w = weight.shape
    full_h, full_w = height + kernel_h - 1, width + kernel_w - 1
    # as a matrix: one column per input pixel, holding the kernel at its place
    spread = np.zeros((full_h * full_w, height * width))
    for p in range(height * width):
        top, left = divmod(p, width)
        canvas = np.zeros((full_h, full_w))
        canvas[top : top + kernel_h, left : left + kernel_w] = weight
        spread[:, p] = canvas.ravel()
    return (spread @ input.ravel()).reshape(full_h, full_w)
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    step = pair(stride)
    margin = pair(padding)
    tail = pair(output_padding)
    count, c_in, height, width = input.shape
    c_out = weight.shape[1]
    kernel = weight.shape[2:]
    size = [
        (n - 1) * s - 2 * p + k + t
        for n, s, p, k, t in zip((height, width), step, margin, kernel, tail)
    ]
    result = np.zeros((count, c_out, size[0], size[1]))
    for i in range(c_in):
        for o in range(c_out):
            big = conv_matrix(
                weight[i, o], (size[0] + 2 * margin[0], size[1] + 2 * margin[1]), step, 0
            )
            padded = (size[0] + 2 * margin[0], size[1] + 2 * margin[1])
            rows_out = (padded[0] - kernel[0]) // step[0] + 1
            cols_out = (padded[1] - kernel[1]) // step[1] + 1
            for m in range(count):
                # the input fills the top-left corner of the convolution's output grid
                grid = np.zeros((rows_out, cols_out))
                grid[:height, :width] = input[m, i]
                image = (big.T @ grid.ravel()).reshape(padded)
                top, left = margin
                result[m, o] += image[top : top + size[0], left : left + size[1]]
    if bias is not None:
        result += np.asarray(bias).reshape(-1, 1, 1)
    return result
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    step = pair(stride)
    margin = pair(padding)
    height, width = input_size
    kernel_h, kernel_w = weight.shape
    rows_out = (height + 2 * margin[0] - kernel_h) // step[0] + 1
    cols_out = (width + 2 * margin[1] - kernel_w) // step[1] + 1
    index = np.arange(height * width).reshape(height, width)
    index = np.pad(index, ((margin[0], margin[0]), (margin[1], margin[1])), constant_values=-1)
    matrix = np.zeros((rows_out * cols_out, height * width))
    for q in range(rows_out * cols_out):
        top, left = divmod(q, cols_out)
        top, left = top * step[0], left * step[1]
        where = index[top : top + kernel_h, left : left + kernel_w]
        inside = where >= 0
        matrix[q, where[inside]] = weight[inside]
    return matrix
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    step = pair(stride)
    margin = pair(padding)
    shape = tuple(
        (n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape, step, margin, weight.shape)
    )
    return (conv_matrix(weight, shape, stride, padding).T @ input.reshape(-1)).reshape(shape)
""",
}

STYLES = {
    "loops": LOOPS,
    "tensordot": TENSORDOT,
    "einsum": EINSUM,
    "zero_insertion": ZERO_INSERTION,
    "matrix_view": MATRIX_VIEW,
}

# A copy of the loops notebook: every name changed, reformatted (line breaks, spacing,
# parentheses, `+=` spelt out), independent statements reordered, comments rewritten.
COPY_OF_LOOPS = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    # kernel size first, then the image size
    kH, kW = weight.shape
    H, W = input.shape
    acc = np.zeros(( H+kH-1 , W+kW-1 ))
    for y0 in range(H):
        for x0 in range(W):
            for dy in range(kH):
                for dx in range(kW):
                    acc[y0+dy, x0+dx] = acc[y0+dy, x0+dx] + input[y0, x0]*weight[dy, dx]
    return acc
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    # read the hyper-parameters
    p0, p1 = pair(padding)
    s0, s1 = pair(stride)
    e0, e1 = pair(output_padding)
    N, Cin, H, W = input.shape
    Cout, kH, kW = weight.shape[1], weight.shape[2], weight.shape[3]
    Ho = (H-1)*s0 - 2*p0 + kH + e0
    Wo = (W-1)*s1 - 2*p1 + kW + e1
    acc = np.zeros((N, Cout, Ho, Wo))
    for n in range(N):
        for i in range(Cin):
            for o in range(Cout):
                for y0 in range(H):
                    for x0 in range(W):
                        for dy in range(kH):
                            for dx in range(kW):
                                Y = y0*s0 + dy - p0
                                X = x0*s1 + dx - p1
                                if 0 <= Y < Ho and 0 <= X < Wo:
                                    acc[n, o, Y, X] = (acc[n, o, Y, X]
                                                       + input[n, i, y0, x0] * weight[i, o, dy, dx])
    if bias is not None:
        for o in range(Cout):
            acc[:, o] += bias[o]   # add the bias channel by channel
    return acc
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    H, W = input_size
    kH, kW = weight.shape
    p0, p1 = pair(padding)
    s0, s1 = pair(stride)
    Ho = (H + 2*p0 - kH)//s0 + 1
    Wo = (W + 2*p1 - kW)//s1 + 1
    M = np.zeros((Ho*Wo, H*W))
    for r in range(Ho):
        for c in range(Wo):
            for dy in range(kH):
                for dx in range(kW):
                    Y = r*s0 + dy - p0
                    X = c*s1 + dx - p1
                    if Y >= 0 and Y < H and X >= 0 and X < W:
                        M[r*Wo + c, Y*W + X] = weight[dy, dx]
    return M
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    p0, p1 = pair(padding)
    s0, s1 = pair(stride)
    kH, kW = weight.shape
    Ho = (input.shape[0]-1)*s0 - 2*p0 + kH
    Wo = (input.shape[1]-1)*s1 - 2*p1 + kW
    C = conv_matrix(weight, (Ho, Wo), stride, padding)
    vals = input.ravel()
    res = np.zeros(Ho*Wo)
    for r in range(C.shape[0]):
        for c in range(C.shape[1]):
            res[c] += C[r, c]*vals[r]
    return res.reshape(Ho, Wo)
""",
}

# A copy of the einsum notebook, disguised the same way.
COPY_OF_EINSUM = {
    SCATTER: """
def conv_transpose2d_scatter(input, weight):
    rows, cols = input.shape
    kr, kc = weight.shape
    res = np.zeros((rows + kr - 1,
                    cols + kc - 1))
    for p in range(kr):
        for q in range(kc):
            res[p:p + rows, q:q + cols] += weight[p, q]*input   # shifted, scaled copy
    return res
""",
    CONV: """
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    (sr, sc), (pr, pc), (er, ec) = pair(stride), pair(padding), pair(output_padding)
    batch, cin, rows, cols = input.shape
    cout, kr, kc = weight.shape[1:]
    out_r = (rows - 1)*sr - 2*pr + kr + er
    out_c = (cols - 1)*sc - 2*pc + kc + ec
    res = np.zeros((batch, cout, out_r + 2*pr, out_c + 2*pc))
    for p in range(kr):
        for q in range(kc):
            contrib = np.einsum("nchw,cd->ndhw", input, weight[:, :, p, q])
            res[:, :, p:p + (rows - 1)*sr + 1:sr, q:q + (cols - 1)*sc + 1:sc] += contrib
    res = res[:, :, pr:pr + out_r, pc:pc + out_c]
    if bias is None:
        return res
    return res + bias.reshape(1, cout, 1, 1)
""",
    MATRIX: """
def conv_matrix(weight, input_size, stride=1, padding=0):
    rows, cols = input_size
    kr, kc = weight.shape
    (sr, sc), (pr, pc) = pair(stride), pair(padding)
    out_c = (cols + 2*pc - kc)//sc + 1
    out_r = (rows + 2*pr - kr)//sr + 1
    basis = np.eye(rows*cols).reshape(rows*cols, rows, cols)
    basis = np.pad(basis, ((0, 0), (pr, pr), (pc, pc)))
    mat = np.zeros((out_r, out_c, rows*cols))
    for p in range(kr):
        for q in range(kc):
            win = basis[:, p:p + (out_r - 1)*sr + 1:sr, q:q + (out_c - 1)*sc + 1:sc]
            mat += weight[p, q]*np.einsum("khw->hwk", win)
    return mat.reshape(out_r*out_c, rows*cols)
""",
    MATRIX_T: """
def conv_transpose2d_matrix(input, weight, stride=1, padding=0):
    (sr, sc), (pr, pc) = pair(stride), pair(padding)
    kr, kc = weight.shape
    out_r = (input.shape[0] - 1)*sr - 2*pr + kr
    out_c = (input.shape[1] - 1)*sc - 2*pc + kc
    mat = conv_matrix(weight, (out_r, out_c), stride, padding)
    return np.einsum("ij,i->j", mat, input.ravel()).reshape(out_r, out_c)
""",
}

COPIES = {"copy_of_loops": ("loops", COPY_OF_LOOPS), "copy_of_einsum": ("einsum", COPY_OF_EINSUM)}


def _stub_docstring(stub: str) -> list[str]:
    """The docstring lines of a released answer cell (between the def line and the stub)."""
    lines = stub.splitlines()
    end = next(i for i, line in enumerate(lines) if "YOUR CODE HERE" in line)
    return lines[1:end]


def answers(style: dict, released_nb) -> dict:
    """``style`` as answer cells: each function keeps the released signature's docstring,
    as a student who writes under the stub does; an answer cell the style does not fill
    keeps its released stub (not the instructor's solution, which every style would then
    share)."""
    stubs = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in released_nb.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    cells = dict(stubs)
    for gid, code in style.items():
        name = stubs[gid].splitlines()[0].split("(")[0]  # "def conv_matrix"
        lines = code.strip("\n").splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(name + "("))
        cells[gid] = "\n".join(lines[: at + 1] + _stub_docstring(stubs[gid]) + lines[at + 1 :])
    return cells
