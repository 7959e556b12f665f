/*
 * The portable stream on the host in one pass: Threefry-2x32 (20 rounds, JAX's
 * keying), JAX's uniform, normal and truncated-normal constructions and the
 * initializer's scale, shift and clip, fused, written once into the output.
 *
 * Bit for bit the arithmetic of anyinit.stream (threefry2x32, uniform_from01,
 * normal_from01, central_truncated) followed by anyinit.sampling.finish, as the
 * NumPy kernel (anyinit.adapters.numpy.kernel) computes them: every rounding is
 * the one written (built with -ffp-contract=off), and the logarithm is NumPy's
 * own float32 loop, called on each cache-sized chunk (use_log), so the values
 * are NumPy's whatever SIMD code NumPy runs on this CPU.
 *
 * Work is split over threads (POSIX threads, GIL released) by element ranges of
 * the output; each range goes through the chunks in L1-sized pieces, so memory
 * sees each output value written once. The vector loops (_threefry_kernels.h)
 * are compiled for AVX-512, AVX2 and the baseline on x86-64 and chosen when the
 * module loads (set_isa forces one, for tests); elsewhere the baseline (NEON on
 * arm64). A scalar set (GCC's vectoriser off) is there to be forced, as the plain C
 * reading every vector set must equal.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if !defined(_WIN32)
#include <pthread.h>
#define HAVE_THREADS 1
#else
#define HAVE_THREADS 0
#endif

#define PARITY 0x1BD11BDAu
#define SQRT2 ((float)1.4142135623730951)

/* Elements per chunk: three float32 buffers of it stay in L1. */
#define CHUNK 1024
/* Below this many elements a thread costs more than it saves. */
#define MIN_PER_THREAD (1 << 15)
#define MAX_THREADS 256

static inline uint32_t rotl(uint32_t x, int d) { return (x << d) | (x >> (32 - d)); }

/* One law's float32 pipeline (see anyinit.adapters.numpy.kernel.FusedLaw). */
typedef struct {
    int erfinv;                 /* 0: uniform law; 1: sqrt2·erfinv of the erf interval */
    double low, span;           /* the uniform's affine step, float32 values */
    float low32;                /* low in float32: the max(low, ·) */
    float clip;                 /* |v| <= clip before erfinv */
    float inner_lo, inner_hi;   /* the clamp after sqrt2·erfinv */
    float scale, shift;         /* then ·scale (+ shift) */
    int with_shift;
    float outer_lo, outer_hi;   /* the final clip */
    int output;                 /* what is stored: OUTPUT_FLOAT32, _FLOAT16 or _BFLOAT16 */
} Law;

enum { OUTPUT_FLOAT32 = 0, OUTPUT_FLOAT16 = 1, OUTPUT_BFLOAT16 = 2 };

/* Every law's last steps, read out of the Law once per loop (a local copy: no store to the
 * output can alias it, so the compiler keeps it in registers). */
typedef struct {
    float inner_lo, inner_hi, scale, shift, lowest, highest;
    int with_shift;
} Finish;

static inline Finish finish_of(const Law *law) {
    Finish finish = {law->inner_lo, law->inner_hi, law->scale, law->shift,
                     law->outer_lo, law->outer_hi, law->with_shift};
    return finish;
}

/* clamp(v, inner)·scale (+ shift), clamped to the final clip, each step in float32 (NumPy's
 * in-place steps: a unit scale is exact, and no shift is added where there is none). */
static inline __attribute__((always_inline)) float finished(const Finish finish, float v) {
    v = v < finish.inner_lo ? finish.inner_lo : v;
    v = v > finish.inner_hi ? finish.inner_hi : v;
    v = v * finish.scale;
    if (finish.with_shift) {
        v = v + finish.shift;
    }
    v = v < finish.lowest ? finish.lowest : v;
    return v > finish.highest ? finish.highest : v;
}

typedef struct {
    const char *name;
    void (*uniform01)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, Py_ssize_t, float *);
    void (*uniform_law)(const Law *, const float *, Py_ssize_t, float *);
    void (*erf_interval)(const Law *, float *, float *, Py_ssize_t);
    void (*erfinv_law)(const Law *, const float *, const float *, Py_ssize_t, float *);
    void (*to_float16)(const float *, Py_ssize_t, uint16_t *);
    void (*to_bfloat16)(const float *, Py_ssize_t, uint16_t *);
    void (*scale_shift_clip)(float *, Py_ssize_t, float, int, float, float, float);
} Kernels;

#define ISA baseline
#define ISA_NAME "baseline"
#define ISA_BYTES 16
#define ISA_TARGET
#include "_threefry_kernels.h"
#undef ISA
#undef ISA_NAME
#undef ISA_BYTES
#undef ISA_TARGET

#if defined(__GNUC__) && !defined(__clang__)
/* One element at a time, the compiler's vectoriser off: the plain C reading of each loop,
 * kept to show that the vector sets compute exactly what it computes. */
#define HAVE_SCALAR 1
#define ISA scalar
#define ISA_NAME "scalar"
#define ISA_BYTES 4
#define ISA_TARGET __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#include "_threefry_kernels.h"
#undef ISA
#undef ISA_NAME
#undef ISA_BYTES
#undef ISA_TARGET
#else
#define HAVE_SCALAR 0
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define HAVE_X86_VARIANTS 1
#define ISA avx2
#define ISA_NAME "avx2"
#define ISA_BYTES 32
#define ISA_TARGET __attribute__((target("avx2")))
#include "_threefry_kernels.h"
#undef ISA
#undef ISA_NAME
#undef ISA_BYTES
#undef ISA_TARGET
#define ISA avx512
#define ISA_NAME "avx512"
#define ISA_BYTES 64
#define ISA_TARGET __attribute__((target("avx512f,avx512vl,avx512dq")))
#include "_threefry_kernels.h"
#undef ISA
#undef ISA_NAME
#undef ISA_BYTES
#undef ISA_TARGET
#else
#define HAVE_X86_VARIANTS 0
#endif

static const Kernels *kernels = &kernels_baseline;

/* The kernel sets this CPU runs, widest first (the scalar one last: never chosen by itself). */
static int available(const Kernels **found) {
    int count = 0;
#if HAVE_X86_VARIANTS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
        found[count++] = &kernels_avx512;
    }
    if (__builtin_cpu_supports("avx2")) {
        found[count++] = &kernels_avx2;
    }
#endif
    found[count++] = &kernels_baseline;
#if HAVE_SCALAR
    found[count++] = &kernels_scalar;
#endif
    return count;
}

/* NumPy's float32 log loop (a ufunc's inner loop: GIL-free, any length). */
typedef void (*UfuncLoop)(char **args, const Py_ssize_t *dimensions, const Py_ssize_t *steps,
                          void *data);
static UfuncLoop log_loop = NULL;
static void *log_loop_data = NULL;

/* The leading fields of NumPy's PyUFuncObject (numpy/ufuncobject.h), unchanged since
 * NumPy 1.0: read here so that the build needs no NumPy headers. kernel.py checks the
 * loop found against np.log before any draw uses it. */
typedef struct {
    PyObject_HEAD
    int nin, nout, nargs;
    int identity;
    UfuncLoop *functions;
    void *const *data;
    int ntypes;
    int reserved1;
    const char *name;
    const char *types;
} UfuncHead;

#define NPY_FLOAT_NUMBER 11

static void log_chunk(const float *in, float *out, Py_ssize_t count) {
    char *args[2] = {(char *)in, (char *)out};
    const Py_ssize_t dimensions[1] = {count};
    const Py_ssize_t steps[2] = {sizeof(float), sizeof(float)};
    log_loop(args, dimensions, steps, log_loop_data);
}

/* Counters start + i·stride (high word `high`), i < count, through the law into out
 * (float32 values, or 16-bit ones rounded once from them). */
static void sample_span(const Kernels *k, uint32_t k0, uint32_t k1, uint32_t high,
                        uint32_t start, uint32_t stride, const float *uniforms, const Law *law,
                        Py_ssize_t count, void *out) {
    float x[CHUNK] __attribute__((aligned(64)));
    float square[CHUNK] __attribute__((aligned(64)));
    float log_square[CHUNK] __attribute__((aligned(64)));
    for (Py_ssize_t done = 0; done < count; done += CHUNK) {
        Py_ssize_t n = count - done < CHUNK ? count - done : CHUNK;
        uint32_t first = start + (uint32_t)done * stride;
        /* float32 results go straight out; 16-bit ones through `square`, free by then. */
        float *values = law->output == OUTPUT_FLOAT32 ? (float *)out + done : square;
        const float *u = x;
        if (uniforms != NULL) {
            u = uniforms + done;
        } else {
            k->uniform01(k0, k1, high, first, stride, n, x);
        }
        if (!law->erfinv) {
            k->uniform_law(law, u, n, values);
        } else {
            if (u != x) {
                memcpy(x, u, (size_t)n * sizeof(float));
            }
            k->erf_interval(law, x, square, n);
            log_chunk(square, log_square, n);
            k->erfinv_law(law, x, log_square, n, values);
        }
        if (law->output == OUTPUT_FLOAT16) {
            k->to_float16(values, n, (uint16_t *)out + done);
        } else if (law->output == OUTPUT_BFLOAT16) {
            k->to_bfloat16(values, n, (uint16_t *)out + done);
        }
    }
}

/* One draw: `runs` runs of `length` counters each, run r from starts[r] with the given
 * stride, written one after another into out. */
typedef struct {
    const Kernels *kernels;
    uint32_t k0, k1, high;
    const int64_t *starts;
    int64_t single_start; /* starts == NULL: one run from here */
    Py_ssize_t runs, length;
    uint32_t stride;
    const float *uniforms;
    Law law;
    char *out;
} Job;

/* A share of one or more jobs' outputs, taken as one sequence: elements [first, last) of
 * the jobs' outputs one after another (job j's from offsets[j]). */
typedef struct {
    const Job *jobs;
    const Py_ssize_t *offsets; /* jobs + 1 prefix sums of the jobs' sizes */
    Py_ssize_t first, last;
} Piece;

static void run_piece(const Piece *piece) {
    Py_ssize_t j = 0;
    Py_ssize_t at = piece->first;
    while (at < piece->last) {
        while (piece->offsets[j + 1] <= at) {
            j++;
        }
        const Job *job = &piece->jobs[j];
        Py_ssize_t local = at - piece->offsets[j];
        Py_ssize_t r = job->length ? local / job->length : 0;
        Py_ssize_t i = local - r * job->length;
        Py_ssize_t n = job->length - i;
        if (n > piece->last - at) {
            n = piece->last - at;
        }
        int64_t run_start = job->starts ? job->starts[r] : job->single_start;
        uint32_t first = (uint32_t)run_start + (uint32_t)i * job->stride;
        const float *uniforms = job->uniforms ? job->uniforms + local : NULL;
        Py_ssize_t itemsize = job->law.output == OUTPUT_FLOAT32 ? 4 : 2;
        sample_span(job->kernels, job->k0, job->k1, job->high, first, job->stride, uniforms,
                    &job->law, n, job->out + local * itemsize);
        at += n;
    }
}

#if HAVE_THREADS
static void *piece_thread(void *arg) {
    run_piece((const Piece *)arg);
    return NULL;
}
#endif

/* `count` jobs (offsets: their prefix sums) split into `threads` equal element ranges of
 * all of them together, the last on the calling thread: many small parameters share the
 * threads as one large one does. */
static void run_jobs(const Job *jobs, const Py_ssize_t *offsets, Py_ssize_t count,
                     int threads) {
    Py_ssize_t total = offsets[count];
    if (threads > MAX_THREADS) {
        threads = MAX_THREADS;
    }
    if (threads > 1 && total / threads < MIN_PER_THREAD) {
        threads = (int)(total / MIN_PER_THREAD);
    }
    if (threads < 1) {
        threads = 1;
    }
    Piece pieces[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        pieces[t].jobs = jobs;
        pieces[t].offsets = offsets;
        pieces[t].first = total * t / threads;
        pieces[t].last = total * (t + 1) / threads;
    }
#if HAVE_THREADS
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS];
    for (int t = 0; t < threads - 1; t++) {
        started[t] = pthread_create(&ids[t], NULL, piece_thread, &pieces[t]) == 0;
        if (!started[t]) {
            run_piece(&pieces[t]); /* no thread to be had: do it here */
        }
    }
    run_piece(&pieces[threads - 1]);
    for (int t = 0; t < threads - 1; t++) {
        if (started[t]) {
            pthread_join(ids[t], NULL);
        }
    }
#else
    for (int t = 0; t < threads; t++) {
        run_piece(&pieces[t]);
    }
#endif
}

static void run_job(const Job *job, int threads) {
    Py_ssize_t offsets[2] = {0, job->runs * job->length};
    run_jobs(job, offsets, 1, threads);
}

/* -- Python ---------------------------------------------------------------------------- */

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

/* A writable C-contiguous buffer for a law's output: float32 ('f'), float16 ('e'), or
 * bfloat16 bits in a 16-bit integer buffer ('h' or 'H', e.g. a torch tensor's int16 view). */
static int parse_output(PyObject *obj, Py_buffer *view, int output) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        return -1;
    }
    const char *format = view->format ? view->format : "B";
    int fits = output == OUTPUT_FLOAT32   ? view->itemsize == 4 && strcmp(format, "f") == 0
               : output == OUTPUT_FLOAT16 ? view->itemsize == 2 && strcmp(format, "e") == 0
                                          : view->itemsize == 2 &&
                                                (strcmp(format, "h") == 0 || strcmp(format, "H") == 0);
    if (!fits) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError,
                        output == OUTPUT_FLOAT32   ? "`out` must be a writable C-contiguous float32 buffer"
                        : output == OUTPUT_FLOAT16 ? "`out` must be a writable C-contiguous float16 buffer"
                                                   : "`out` must be a writable C-contiguous int16 buffer "
                                                     "(bfloat16 bits)");
        return -1;
    }
    return 0;
}

/* A buffer of int64 values (the counter each run starts at). */
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

/* law = (erfinv, low, span, clip, inner_lo, inner_hi, scale, with_shift, shift, outer_lo,
 * outer_hi, output): FusedLaw.arguments. */
static int parse_law(PyObject *tuple, Law *law) {
    if (!PyTuple_Check(tuple)) {
        PyErr_SetString(PyExc_TypeError, "`law` must be a tuple (kernel.FusedLaw.arguments)");
        return -1;
    }
    if (!PyArg_ParseTuple(tuple, "pddffffpfffi", &law->erfinv, &law->low, &law->span,
                          &law->clip, &law->inner_lo, &law->inner_hi, &law->scale,
                          &law->with_shift, &law->shift, &law->outer_lo, &law->outer_hi,
                          &law->output)) {
        return -1;
    }
    if (law->output < OUTPUT_FLOAT32 || law->output > OUTPUT_BFLOAT16) {
        PyErr_SetString(PyExc_ValueError, "the law's output must be 0 (float32), 1 (float16) "
                                          "or 2 (bfloat16)");
        return -1;
    }
    law->low32 = (float)law->low;
    if (law->erfinv && log_loop == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the erfinv laws need NumPy's log loop (use_log)");
        return -1;
    }
    return 0;
}

/* A job's buffers, held while it runs. */
typedef struct {
    Py_buffer out, starts;
    int have_out, have_starts;
} Held;

static void release(Held *held) {
    if (held->have_starts) {
        PyBuffer_Release(&held->starts);
        held->have_starts = 0;
    }
    if (held->have_out) {
        PyBuffer_Release(&held->out);
        held->have_out = 0;
    }
}

/* One job from (out, k0, k1, high, starts, length, stride, law): checked whole (words,
 * law, buffers, lengths, every counter below 2**32) before anything is drawn. */
static int parse_job(PyObject *args, Job *job, Held *held) {
    PyObject *out_obj, *starts_obj, *law_obj;
    long long k0, k1, high, stride;
    Py_ssize_t length;
    held->have_out = held->have_starts = 0;
    if (!PyArg_ParseTuple(args, "OLLLOnLO", &out_obj, &k0, &k1, &high, &starts_obj, &length,
                          &stride, &law_obj)) {
        return -1;
    }
    const long long words[] = {k0, k1, high, stride};
    const char *const names[] = {"k0", "k1", "high", "stride"};
    if (check_words(words, names, 4) < 0 || parse_law(law_obj, &job->law) < 0) {
        return -1;
    }
    if (parse_output(out_obj, &held->out, job->law.output) < 0) {
        return -1;
    }
    held->have_out = 1;
    job->starts = NULL;
    job->single_start = 0;
    job->runs = 1;
    if (PyLong_Check(starts_obj)) {
        job->single_start = PyLong_AsLongLong(starts_obj);
        if (job->single_start == -1 && PyErr_Occurred()) {
            release(held);
            return -1;
        }
    } else {
        if (parse_int64(starts_obj, &held->starts) < 0) {
            release(held);
            return -1;
        }
        held->have_starts = 1;
        job->starts = (const int64_t *)held->starts.buf;
        job->runs = held->starts.len / 8;
    }
    const char *error = NULL;
    if (length < 0 || job->runs * length != held->out.len / held->out.itemsize) {
        error = "`out` must hold len(starts) * length values";
    }
    /* Every counter below 2**32: the last of each run is start + (length - 1)·stride. */
    unsigned long long reach = length > 0 ? (unsigned long long)(length - 1) * stride : 0;
    for (Py_ssize_t r = 0; error == NULL && r < job->runs; r++) {
        int64_t first = job->starts ? job->starts[r] : job->single_start;
        if (first < 0 || (length > 0 && (unsigned long long)first + reach >= 0x100000000ull)) {
            error = "counters past 2**32 in one run";
        }
    }
    if (error != NULL) {
        release(held);
        PyErr_SetString(PyExc_ValueError, error);
        return -1;
    }
    job->kernels = kernels;
    job->k0 = (uint32_t)k0;
    job->k1 = (uint32_t)k1;
    job->high = (uint32_t)high;
    job->length = length;
    job->stride = (uint32_t)stride;
    job->uniforms = NULL;
    job->out = (char *)held->out.buf;
    return 0;
}

/* sample(out, k0, k1, high, starts, length, stride, law, threads) */
static PyObject *sample(PyObject *self, PyObject *args) {
    Py_ssize_t size = PyTuple_GET_SIZE(args);
    if (size != 9) {
        PyErr_Format(PyExc_TypeError, "sample takes 9 arguments (%zd given)", size);
        return NULL;
    }
    int threads = PyLong_AsLong(PyTuple_GET_ITEM(args, 8));
    if (threads == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *job_args = PyTuple_GetSlice(args, 0, 8);
    if (job_args == NULL) {
        return NULL;
    }
    Job job;
    Held held;
    int failed = parse_job(job_args, &job, &held);
    Py_DECREF(job_args);
    if (failed) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    run_job(&job, threads);
    Py_END_ALLOW_THREADS
    release(&held);
    Py_RETURN_NONE;
}

/* sample_many(jobs, threads): every job (a tuple of sample's first eight arguments), all
 * checked before any is drawn, then drawn together, the threads sharing their elements. */
static PyObject *sample_many(PyObject *self, PyObject *args) {
    PyObject *sequence;
    int threads;
    if (!PyArg_ParseTuple(args, "Oi", &sequence, &threads)) {
        return NULL;
    }
    PyObject *items = PySequence_Fast(sequence, "`jobs` must be a sequence of tuples");
    if (items == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    Job *jobs = PyMem_Calloc(count ? count : 1, sizeof(Job));
    Held *held = PyMem_Calloc(count ? count : 1, sizeof(Held));
    Py_ssize_t *offsets = PyMem_Calloc(count + 1, sizeof(Py_ssize_t));
    Py_ssize_t parsed = 0;
    int failed = jobs == NULL || held == NULL || offsets == NULL;
    if (failed) {
        PyErr_NoMemory();
    }
    for (; !failed && parsed < count; parsed++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, parsed);
        if (!PyTuple_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "each job must be a tuple of sample's arguments");
            failed = 1;
            break;
        }
        if (parse_job(item, &jobs[parsed], &held[parsed]) < 0) {
            failed = 1;
            break;
        }
        offsets[parsed + 1] = offsets[parsed] + jobs[parsed].runs * jobs[parsed].length;
    }
    if (!failed) {
        Py_BEGIN_ALLOW_THREADS
        run_jobs(jobs, offsets, count, threads);
        Py_END_ALLOW_THREADS
    }
    for (Py_ssize_t j = 0; held != NULL && j < parsed; j++) {
        release(&held[j]);
    }
    PyMem_Free(jobs);
    PyMem_Free(held);
    PyMem_Free(offsets);
    Py_DECREF(items);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* transform(out, uniforms, law): the law's steps after Threefry, on given uniforms. */
static PyObject *transform(PyObject *self, PyObject *args) {
    PyObject *out_obj, *u_obj, *law_obj;
    Py_buffer out, u;
    Job job;
    if (!PyArg_ParseTuple(args, "OOO", &out_obj, &u_obj, &law_obj)) {
        return NULL;
    }
    if (parse_law(law_obj, &job.law) < 0 || parse_output(out_obj, &out, job.law.output) < 0) {
        return NULL;
    }
    if (parse_float32(u_obj, &u, 0) < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    if (u.len / 4 != out.len / out.itemsize) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&u);
        PyErr_SetString(PyExc_ValueError, "`out` and `uniforms` must have the same length");
        return NULL;
    }
    job.kernels = kernels;
    job.k0 = job.k1 = job.high = 0;
    job.starts = NULL;
    job.single_start = 0;
    job.runs = 1;
    job.length = out.len / out.itemsize;
    job.stride = 1;
    job.uniforms = (const float *)u.buf;
    job.out = (char *)out.buf;
    Py_BEGIN_ALLOW_THREADS
    run_job(&job, 1);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&u);
    Py_RETURN_NONE;
}

/* round16(out, values, output): float32 values rounded to float16 (output 1) or bfloat16
 * bits (output 2) by the kernel's own conversion. */
static PyObject *round16(PyObject *self, PyObject *args) {
    PyObject *out_obj, *values_obj;
    int output;
    Py_buffer out, values;
    if (!PyArg_ParseTuple(args, "OOi", &out_obj, &values_obj, &output)) {
        return NULL;
    }
    if (output != OUTPUT_FLOAT16 && output != OUTPUT_BFLOAT16) {
        PyErr_SetString(PyExc_ValueError, "`output` must be 1 (float16) or 2 (bfloat16)");
        return NULL;
    }
    if (parse_output(out_obj, &out, output) < 0) {
        return NULL;
    }
    if (parse_float32(values_obj, &values, 0) < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    if (values.len / 4 != out.len / 2) {
        PyBuffer_Release(&out);
        PyBuffer_Release(&values);
        PyErr_SetString(PyExc_ValueError, "`out` and `values` must have the same length");
        return NULL;
    }
    const Kernels *k = kernels;
    Py_BEGIN_ALLOW_THREADS
    if (output == OUTPUT_FLOAT16) {
        k->to_float16((const float *)values.buf, values.len / 4, (uint16_t *)out.buf);
    } else {
        k->to_bfloat16((const float *)values.buf, values.len / 4, (uint16_t *)out.buf);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&values);
    Py_RETURN_NONE;
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
    const Kernels *k = kernels;
    Py_BEGIN_ALLOW_THREADS
    k->scale_shift_clip((float *)view.buf, view.len / 4, scale, with_shift, shift, lowest,
                        highest);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* use_log(numpy.log) -> bool: take NumPy's float32 log loop for the erfinv laws. */
static PyObject *use_log(PyObject *self, PyObject *ufunc) {
    const char *type_name = Py_TYPE(ufunc)->tp_name;
    if (strcmp(type_name, "numpy.ufunc") != 0) {
        PyErr_SetString(PyExc_TypeError, "use_log takes numpy.log");
        return NULL;
    }
    const UfuncHead *head = (const UfuncHead *)ufunc;
    if (head->nin != 1 || head->nout != 1 || head->name == NULL ||
        strcmp(head->name, "log") != 0 || head->types == NULL || head->functions == NULL) {
        Py_RETURN_FALSE;
    }
    /* The first float32 -> float32 loop: the one NumPy's type resolution takes. */
    for (int i = 0; i < head->ntypes; i++) {
        if (head->types[2 * i] == NPY_FLOAT_NUMBER && head->types[2 * i + 1] == NPY_FLOAT_NUMBER) {
            if (head->functions[i] == NULL) {
                break;
            }
            log_loop = head->functions[i];
            log_loop_data = head->data ? head->data[i] : NULL;
            Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

/* forget_log(): the erfinv laws are refused again (a loop that failed kernel.py's check). */
static PyObject *forget_log(PyObject *self, PyObject *unused) {
    log_loop = NULL;
    log_loop_data = NULL;
    Py_RETURN_NONE;
}

/* isas() -> the kernel sets this CPU runs, widest first; isa() -> the one in use. */
static PyObject *isas(PyObject *self, PyObject *unused) {
    const Kernels *found[5];
    int count = available(found);
    PyObject *names = PyTuple_New(count);
    if (names == NULL) {
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        PyTuple_SET_ITEM(names, i, PyUnicode_FromString(found[i]->name));
    }
    return names;
}

static PyObject *isa(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(kernels->name);
}

/* set_isa(name): use that kernel set (one of isas()). */
static PyObject *set_isa(PyObject *self, PyObject *arg) {
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL) {
        return NULL;
    }
    const Kernels *found[5];
    int count = available(found);
    for (int i = 0; i < count; i++) {
        if (strcmp(found[i]->name, name) == 0) {
            kernels = found[i];
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "`isa` must be one of this CPU's kernel sets; received %R",
                 arg);
    return NULL;
}

static PyMethodDef methods[] = {
    {"sample", sample, METH_VARARGS,
     "sample(out, k0, k1, high, starts, length, stride, law, threads): the law's float32 "
     "values for the counters (high, starts[r] + i*stride), i < length, run after run into "
     "`out` (starts: an int for one run, or an int64 buffer), on up to `threads` threads."},
    {"sample_many", sample_many, METH_VARARGS,
     "sample_many(jobs, threads): each job a tuple of sample's first eight arguments; all "
     "are checked, then drawn together, the threads sharing every job's elements."},
    {"transform", transform, METH_VARARGS,
     "transform(out, uniforms, law): the law's steps after Threefry, on the float32 "
     "uniforms given."},
    {"round16", round16, METH_VARARGS,
     "round16(out, values, output): float32 values rounded to float16 (1) or bfloat16 (2) "
     "bits, to nearest even."},
    {"finish", finish, METH_VARARGS,
     "finish(values, scale, with_shift, shift, lowest, highest): values*scale (+ shift), "
     "clamped to [lowest, highest], in place, in float32."},
    {"use_log", use_log, METH_O, "use_log(numpy.log) -> bool: take NumPy's float32 log loop."},
    {"forget_log", forget_log, METH_NOARGS, "forget_log(): stop using NumPy's log loop."},
    {"isas", isas, METH_NOARGS, "isas(): the kernel sets this CPU runs, widest first."},
    {"isa", isa, METH_NOARGS, "isa(): the kernel set in use."},
    {"set_isa", set_isa, METH_O, "set_isa(name): use that kernel set (one of isas())."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_threefry_c", NULL, -1, methods};

PyMODINIT_FUNC PyInit__threefry_c(void) {
    const Kernels *found[5];
    available(found);
    kernels = found[0];
    return PyModule_Create(&module);
}
