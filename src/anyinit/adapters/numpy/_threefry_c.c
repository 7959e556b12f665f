/*
 * The portable stream's hot loop in C: Threefry-2x32 (20 rounds, JAX's keying)
 * over consecutive counters, straight into a float32 buffer.
 *
 * Bit for bit the arithmetic of anyinit.stream.threefry.threefry2x32 and of
 * the NumPy kernel (anyinit.adapters.numpy.kernel): for the element with flat
 * index i the counter words are (high, start + i), the output word is
 * (y0 ^ y1) >> 9 scaled by 2**-23, and the uniform law's affine step is
 * float32(double(u) * span + low), then max(low, .) (JAX's construction with
 * the fused multiply-add XLA emits; the product of two float32 values is exact
 * in double, so the one rounding is the add's).
 *
 * The loop has no dependence between elements, so compilers vectorise it
 * (SSE2 on every x86-64, wider where enabled). The GIL is released: the Python
 * side runs blocks of one array on several threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define PARITY 0x1BD11BDAu

/* One build runs the widest vectors the CPU has (GCC on x86-64 Linux picks the
 * clone at load time: AVX-512 rotates in one instruction); elsewhere the
 * compiler's baseline (SSE2 on x86-64, NEON on arm64). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDEST_VECTORS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDEST_VECTORS
#endif

static inline uint32_t rotl(uint32_t x, int d) { return (x << d) | (x >> (32 - d)); }

#define ROUND(d)      \
    x0 += x1;         \
    x1 = rotl(x1, d); \
    x1 ^= x0;

WIDEST_VECTORS
static void uniform01(uint32_t k0, uint32_t k1, uint32_t high, uint32_t start, Py_ssize_t count,
                      float *restrict out) {
    const uint32_t k2 = k0 ^ k1 ^ PARITY;
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t x0 = high + k0;
        uint32_t x1 = (start + (uint32_t)i) + k1;
        ROUND(13) ROUND(15) ROUND(26) ROUND(6)
        x0 += k1; x1 += k2 + 1u;
        ROUND(17) ROUND(29) ROUND(16) ROUND(24)
        x0 += k2; x1 += k0 + 2u;
        ROUND(13) ROUND(15) ROUND(26) ROUND(6)
        x0 += k0; x1 += k1 + 3u;
        ROUND(17) ROUND(29) ROUND(16) ROUND(24)
        x0 += k1; x1 += k2 + 4u;
        ROUND(13) ROUND(15) ROUND(26) ROUND(6)
        x0 += k2; x1 += k0 + 5u;
        /* 23 bits: exact as a signed int, whose conversion SSE2 has. */
        out[i] = (float)(int32_t)((x0 ^ x1) >> 9) * (1.0f / 8388608.0f);
    }
}

WIDEST_VECTORS
static void affine(float *restrict values, Py_ssize_t count, double low, double span) {
    const float low32 = (float)low;
    for (Py_ssize_t i = 0; i < count; i++) {
        float f = (float)((double)values[i] * span + low);
        values[i] = f < low32 ? low32 : f;
    }
}

/* Cache-sized chunks: the affine pass reads what the first pass just wrote. */
#define CHUNK 4096

static void threefry_words(uint32_t k0, uint32_t k1, uint32_t high, uint32_t start,
                           Py_ssize_t count, float *out, int with_affine, double low,
                           double span) {
    for (Py_ssize_t done = 0; done < count; done += CHUNK) {
        Py_ssize_t n = count - done < CHUNK ? count - done : CHUNK;
        uniform01(k0, k1, high, start + (uint32_t)done, n, out + done);
        if (with_affine) {
            affine(out + done, n, low, span);
        }
    }
}

/* x clipped to [-clip, clip] in place (NumPy's np.clip; no NaN reaches here), then
 * 1 - x², each step rounded to float32 (NumPy's `1.0 - x * x` on a float32 array). */
WIDEST_VECTORS
static void complement_squares(float *x, float *out, Py_ssize_t count, float clip) {
    for (Py_ssize_t i = 0; i < count; i++) {
        float xi = x[i];
        xi = xi < -clip ? -clip : xi;
        xi = xi > clip ? clip : xi;
        x[i] = xi;
        float square = xi * xi;
        out[i] = 1.0f - square;
    }
}

/* Giles's single-precision erfinv (XLA's), given l = log(1 - x²) from NumPy's own log
 * (so that the bits stay NumPy's) and w = -l: out = sqrt2 · (p(w) · x), each step
 * rounded to float32 as anyinit.stream.transforms.erfinv and normal_from01 round it. */
WIDEST_VECTORS
static void erfinv_from_log(const float *x, const float *log_w, float *out, Py_ssize_t count,
                            float scale, float lowest, float highest) {
    for (Py_ssize_t i = 0; i < count; i++) {
        float wi = -log_w[i], p;
        if (wi < 5.0f) {
            float t = wi - 2.5f;
            p = (float)2.81022636e-08;
            p = (float)3.43273939e-07 + p * t;
            p = (float)-3.5233877e-06 + p * t;
            p = (float)-4.39150654e-06 + p * t;
            p = (float)0.00021858087 + p * t;
            p = (float)-0.00125372503 + p * t;
            p = (float)-0.00417768164 + p * t;
            p = (float)0.246640727 + p * t;
            p = (float)1.50140941 + p * t;
        } else {
            float t = sqrtf(wi) - 3.0f;
            p = (float)-0.000200214257;
            p = (float)0.000100950558 + p * t;
            p = (float)0.00134934322 + p * t;
            p = (float)-0.00367342844 + p * t;
            p = (float)0.00573950773 + p * t;
            p = (float)-0.0076224613 + p * t;
            p = (float)0.00943887047 + p * t;
            p = (float)1.00167406 + p * t;
            p = (float)2.83297682 + p * t;
        }
        float px = p * x[i];
        float value = scale * px;
        value = value < lowest ? lowest : value; /* the clamp to the open interval */
        out[i] = value > highest ? highest : value;
    }
}

/* A C-contiguous float32 buffer (`writable`: one the kernel may write into). */
static int parse_float32(PyObject *obj, Py_buffer *view, int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        return -1;
    }
    if (view->itemsize != 4 || view->format == NULL || strcmp(view->format, "f") != 0) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, writable
                                             ? "`out` must be a writable C-contiguous float32 buffer"
                                             : "inputs must be C-contiguous float32 buffers");
        return -1;
    }
    return 0;
}

/* 0 when every word is a uint32 (0 <= w < 2**32); else -1 with a ValueError naming it. A
 * negative Python int parsed as unsigned would wrap (-1 -> 2**64 - 1) past every range check. */
static int check_words(const long long *words, const char *const *names, int count) {
    for (int i = 0; i < count; i++) {
        if (words[i] < 0 || words[i] > 0xFFFFFFFFll) {
            PyErr_Format(PyExc_ValueError, "`%s` must be in [0, 2**32); received %lld", names[i],
                         words[i]);
            return -1;
        }
    }
    return 0;
}

/* fill_uniform01(out, k0, k1, high, start[, low, span]) */
static PyObject *fill(PyObject *self, PyObject *args) {
    PyObject *obj;
    long long k0, k1, high, start;
    double low = 0.0, span = 1.0;
    int affine;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "OLLLL|dd", &obj, &k0, &k1, &high, &start, &low, &span)) {
        return NULL;
    }
    const long long words[] = {k0, k1, high, start};
    const char *const names[] = {"k0", "k1", "high", "start"};
    if (check_words(words, names, 4) < 0) {
        return NULL;
    }
    affine = PyTuple_GET_SIZE(args) > 5;
    if (parse_float32(obj, &view, 1) < 0) {
        return NULL;
    }
    Py_ssize_t count = view.len / 4;
    if ((unsigned long long)start + (unsigned long long)count > 0x100000000ull) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "counters past 2**32 in one block");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    threefry_words((uint32_t)k0, (uint32_t)k1, (uint32_t)high, (uint32_t)start, count,
                   (float *)view.buf, affine, low, span);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* erfinv(out, x, w, scale) */
static PyObject *erfinv(PyObject *self, PyObject *args) {
    PyObject *out_obj, *x_obj, *w_obj;
    float scale, lowest = -INFINITY, highest = INFINITY;
    Py_buffer out, x, w;
    if (!PyArg_ParseTuple(args, "OOOf|ff", &out_obj, &x_obj, &w_obj, &scale, &lowest,
                          &highest)) {
        return NULL;
    }
    if (parse_float32(out_obj, &out, 1) < 0) {
        return NULL;
    }
    if (parse_float32(x_obj, &x, 0) < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    if (parse_float32(w_obj, &w, 0) < 0) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&x);
        return NULL;
    }
    if (x.len != out.len || w.len != out.len) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&x);
        PyBuffer_Release(&w);
        PyErr_SetString(PyExc_ValueError, "`out`, `x` and `w` must have the same length");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    erfinv_from_log((const float *)x.buf, (const float *)w.buf, (float *)out.buf, out.len / 4,
                    scale, lowest, highest);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    PyBuffer_Release(&w);
    Py_RETURN_NONE;
}

/* values·scale (+ shift) clamped to [lowest, highest], in place, each step rounded to
 * float32: NumPy's `values *= scale; values += shift; np.clip(values, lo, hi, out=values)`
 * on a float32 array (Python floats become float32 first; -0.0 stays -0.0 without a shift). */
WIDEST_VECTORS
static void scale_shift_clip(float *values, Py_ssize_t count, float scale, int with_shift,
                             float shift, float lowest, float highest) {
    for (Py_ssize_t i = 0; i < count; i++) {
        float v = values[i] * scale;
        if (with_shift) {
            v = v + shift;
        }
        v = v < lowest ? lowest : v;
        values[i] = v > highest ? highest : v;
    }
}

/* finish(values, scale, with_shift, shift, lowest, highest) */
static PyObject *finish(PyObject *self, PyObject *args) {
    PyObject *obj;
    float scale, shift, lowest, highest;
    int with_shift;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "Ofpfff", &obj, &scale, &with_shift, &shift, &lowest,
                          &highest)) {
        return NULL;
    }
    if (parse_float32(obj, &view, 1) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    scale_shift_clip((float *)view.buf, view.len / 4, scale, with_shift, shift, lowest, highest);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* A buffer of int64 values (the flat start of each run). */
static int parse_int64(PyObject *obj, Py_buffer *view) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return -1;
    }
    if (view->itemsize != 8 || view->format == NULL ||
        (strcmp(view->format, "l") != 0 && strcmp(view->format, "q") != 0)) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "`starts` must be a C-contiguous int64 buffer");
        return -1;
    }
    return 0;
}

/* fill_runs(out, k0, k1, high, starts, length[, low, span]): run r of `length` values
 * (counters starts[r] + i) at out[r * length:]: a block of a larger array (a Dask
 * chunk, a shard) in one call, so the GIL is released once, not once a row. */
static PyObject *fill_runs(PyObject *self, PyObject *args) {
    PyObject *out_obj, *starts_obj;
    long long k0, k1, high;
    Py_ssize_t length;
    double low = 0.0, span = 1.0;
    Py_buffer out, starts;
    if (!PyArg_ParseTuple(args, "OLLLOn|dd", &out_obj, &k0, &k1, &high, &starts_obj, &length,
                          &low, &span)) {
        return NULL;
    }
    const long long words[] = {k0, k1, high};
    const char *const names[] = {"k0", "k1", "high"};
    if (check_words(words, names, 3) < 0) {
        return NULL;
    }
    int with_affine = PyTuple_GET_SIZE(args) > 6;
    if (parse_float32(out_obj, &out, 1) < 0) {
        return NULL;
    }
    if (parse_int64(starts_obj, &starts) < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    Py_ssize_t runs = starts.len / 8;
    const int64_t *first = (const int64_t *)starts.buf;
    const char *error = NULL;
    if (length < 0 || runs * length != out.len / 4) {
        error = "`out` must hold len(starts) * length values";
    }
    for (Py_ssize_t r = 0; error == NULL && r < runs; r++) {
        if (first[r] < 0 || (unsigned long long)first[r] + (unsigned long long)length >
                                 0x100000000ull) {
            error = "counters past 2**32 in one run";
        }
    }
    if (error != NULL) {
        PyBuffer_Release(&starts);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, error);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < runs; r++) {
        threefry_words((uint32_t)k0, (uint32_t)k1, (uint32_t)high, (uint32_t)first[r], length,
                       (float *)out.buf + r * length, with_affine, low, span);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&starts);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

/* complement_squares(out, x[, clip]): x clipped to ±clip in place, out = 1 - x*x. */
static PyObject *complement_squares_py(PyObject *self, PyObject *args) {
    PyObject *out_obj, *x_obj;
    float clip = INFINITY;
    Py_buffer out, x;
    if (!PyArg_ParseTuple(args, "OO|f", &out_obj, &x_obj, &clip)) {
        return NULL;
    }
    if (parse_float32(out_obj, &out, 1) < 0) {
        return NULL;
    }
    if (parse_float32(x_obj, &x, 1) < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    if (x.len != out.len) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&x);
        PyErr_SetString(PyExc_ValueError, "`out` and `x` must have the same length");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    complement_squares((float *)x.buf, (float *)out.buf, out.len / 4, clip);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"erfinv", erfinv, METH_VARARGS,
     "erfinv(out, x, l, scale[, lowest, highest]): scale * erfinv(x) given l = log(1 - x*x), "
     "clamped to [lowest, highest], in float32."},
    {"complement_squares", complement_squares_py, METH_VARARGS,
     "complement_squares(out, x[, clip]): x clipped to [-clip, clip] in place (x writable), "
     "then 1 - x*x in float32, each step rounded."},
    {"fill", fill, METH_VARARGS,
     "fill(out, k0, k1, high, start[, low, span]): Threefry uniforms (or U[low, low + span)) "
     "for the counters (high, start + i) into the float32 buffer `out`."},
    {"finish", finish, METH_VARARGS,
     "finish(values, scale, with_shift, shift, lowest, highest): values*scale (+ shift), "
     "clamped to [lowest, highest], in place, in float32."},
    {"fill_runs", fill_runs, METH_VARARGS,
     "fill_runs(out, k0, k1, high, starts, length[, low, span]): fill's values for the runs "
     "of `length` counters from each int64 in `starts`, one after another in `out`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_threefry_c", NULL, -1, methods};

PyMODINIT_FUNC PyInit__threefry_c(void) { return PyModule_Create(&module); }
