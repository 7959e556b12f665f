/*
 * The portable stream's vector loops, compiled once per instruction set.
 *
 * _threefry_c.c includes this file several times, each time with ISA (the
 * suffix of every name below), ISA_NAME (its label), ISA_BYTES (its vector width)
 * and ISA_TARGET (a function attribute naming the instruction set, or nothing for
 * the compiler's baseline) defined, and picks
 * one set of loops when it loads (or when a test forces one). Every loop is a
 * plain loop with no dependence between elements, so the compiler vectorises
 * it at that width; the roundings are the ones written (-ffp-contract=off), so
 * every set gives the same bits.
 */

#define KERNEL_NAME2(name, isa) name##_##isa
#define KERNEL_NAME1(name, isa) KERNEL_NAME2(name, isa)
#define KERNEL(name) KERNEL_NAME1(name, ISA)

#define ROUND(d)      \
    x0 += x1;         \
    x1 = rotl(x1, d); \
    x1 ^= x0;

/* Threefry-2x32-20 of the counters (high, start + i·stride), JAX's keying, as float32
 * uniforms in [0, 1): the output word (y0 ^ y1) >> 9 scaled by 2**-23 (23 bits are exact
 * as a signed int, whose conversion every vector set has).
 *
 * Written with GCC's vector types, UNROLL vectors of ISA_BYTES at a time: each round of
 * one vector waits on the one before (add, rotate, xor), so independent vectors
 * interleaved keep the vector units busy where one chain would leave them waiting. */
typedef uint32_t KERNEL(words) __attribute__((vector_size(ISA_BYTES)));
typedef int32_t KERNEL(signed_words) __attribute__((vector_size(ISA_BYTES)));
typedef float KERNEL(floats) __attribute__((vector_size(ISA_BYTES)));
#define LANES (ISA_BYTES / 4)
#define UNROLL 4

#define VROUND(d)                                    \
    for (int u = 0; u < UNROLL; u++) {               \
        x0[u] += x1[u];                              \
        x1[u] = (x1[u] << d) | (x1[u] >> (32 - d));  \
        x1[u] ^= x0[u];                              \
    }
#define VINJECT(a, b, n)                             \
    for (int u = 0; u < UNROLL; u++) {               \
        x0[u] += a;                                  \
        x1[u] += b + (uint32_t)(n);                  \
    }

ISA_TARGET
static void KERNEL(uniform01)(uint32_t k0, uint32_t k1, uint32_t high, uint32_t start,
                              uint32_t stride, Py_ssize_t count, float *restrict out) {
    const uint32_t k2 = k0 ^ k1 ^ PARITY;
    KERNEL(words) lane;
    for (int j = 0; j < LANES; j++) {
        lane[j] = (uint32_t)j * stride;
    }
    Py_ssize_t i = 0;
    for (; i + UNROLL * LANES <= count; i += UNROLL * LANES) {
        KERNEL(words) x0[UNROLL], x1[UNROLL];
        for (int u = 0; u < UNROLL; u++) {
            uint32_t first = start + (uint32_t)(i + u * LANES) * stride;
            x0[u] = (KERNEL(words)){0} + (high + k0);
            x1[u] = lane + (first + k1);
        }
        VROUND(13) VROUND(15) VROUND(26) VROUND(6)
        VINJECT(k1, k2, 1)
        VROUND(17) VROUND(29) VROUND(16) VROUND(24)
        VINJECT(k2, k0, 2)
        VROUND(13) VROUND(15) VROUND(26) VROUND(6)
        VINJECT(k0, k1, 3)
        VROUND(17) VROUND(29) VROUND(16) VROUND(24)
        VINJECT(k1, k2, 4)
        VROUND(13) VROUND(15) VROUND(26) VROUND(6)
        VINJECT(k2, k0, 5)
        for (int u = 0; u < UNROLL; u++) {
            KERNEL(signed_words) bits = (KERNEL(signed_words))((x0[u] ^ x1[u]) >> 9);
            KERNEL(floats) value =
                __builtin_convertvector(bits, KERNEL(floats)) * (1.0f / 8388608.0f);
            memcpy(out + i + u * LANES, &value, sizeof value);
        }
    }
    for (; i < count; i++) {
        uint32_t x0 = high + k0;
        uint32_t x1 = (start + (uint32_t)i * stride) + k1;
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
        out[i] = (float)(int32_t)((x0 ^ x1) >> 9) * (1.0f / 8388608.0f);
    }
}

#undef VROUND
#undef VINJECT
#undef LANES
#undef UNROLL

/* JAX's uniform on [low, low + span): float32(double(u)·span + low), then max(low, ·) (the
 * fused multiply-add XLA emits: the product of two float32 values is exact in double, so
 * the one rounding is the add's); clamped to the inner interval, then ·scale (+ shift)
 * and the final clip, each step in float32 (U[-1, 1)·limit is the variance-scaling one). */
ISA_TARGET
static void KERNEL(uniform_law)(const Law *law, const float *restrict u, Py_ssize_t count,
                                float *restrict out) {
    const double low = law->low, span = law->span;
    const float low32 = law->low32;
    const Finish finish = finish_of(law);
    for (Py_ssize_t i = 0; i < count; i++) {
        float v = (float)((double)u[i] * span + low);
        v = v < low32 ? low32 : v;
        out[i] = finished(finish, v);
    }
}

/* The erfinv laws' first step: the uniform on the erf interval (as above), clipped to
 * ±clip, into x; and 1 - x², rounded to float32 at each step, into square (NumPy's
 * `1.0 - x * x` on a float32 array), whose log NumPy's own loop takes next. */
ISA_TARGET
static void KERNEL(erf_interval)(const Law *law, float *restrict x, float *restrict square,
                                 Py_ssize_t count) {
    const double low = law->low, span = law->span;
    const float low32 = law->low32, clip = law->clip;
    for (Py_ssize_t i = 0; i < count; i++) {
        float v = (float)((double)x[i] * span + low);
        v = v < low32 ? low32 : v;
        v = v < -clip ? -clip : v;
        v = v > clip ? clip : v;
        x[i] = v;
        square[i] = 1.0f - v * v;
    }
}

/* Giles's single-precision erfinv (XLA's), w = -log(1 - x²) given as log_square: the
 * polynomial in w - 2.5 below 5 and in sqrt(w) - 3 above, each evaluated step by step in
 * float32 (both computed, one kept: a branch-free loop the compiler vectorises, where a
 * second pass over the rare w >= 5 would cost a scalar scan of every chunk); then
 * √2·(p·x), clamped to the law's inner interval (the truncated normal's open interval),
 * ·scale (+ shift) and the final clip, each step in float32 as NumPy's in-place steps
 * round it. */
ISA_TARGET
static void KERNEL(erfinv_law)(const Law *law, const float *restrict x,
                               const float *restrict log_square, Py_ssize_t count,
                               float *restrict out) {
    const Finish finish = finish_of(law);
    for (Py_ssize_t i = 0; i < count; i++) {
        float w = -log_square[i];
        float t = w - 2.5f;
        float p = (float)2.81022636e-08;
        p = (float)3.43273939e-07 + p * t;
        p = (float)-3.5233877e-06 + p * t;
        p = (float)-4.39150654e-06 + p * t;
        p = (float)0.00021858087 + p * t;
        p = (float)-0.00125372503 + p * t;
        p = (float)-0.00417768164 + p * t;
        p = (float)0.246640727 + p * t;
        p = (float)1.50140941 + p * t;
        float s = sqrtf(w) - 3.0f;
        float q = (float)-0.000200214257;
        q = (float)0.000100950558 + q * s;
        q = (float)0.00134934322 + q * s;
        q = (float)-0.00367342844 + q * s;
        q = (float)0.00573950773 + q * s;
        q = (float)-0.0076224613 + q * s;
        q = (float)0.00943887047 + q * s;
        q = (float)1.00167406 + q * s;
        q = (float)2.83297682 + q * s;
        p = w < 5.0f ? p : q;
        out[i] = finished(finish, SQRT2 * (p * x[i]));
    }
}

/* float32 values rounded to float16 bits, to nearest even (IEEE's, as NumPy's astype and
 * torch's .to round), subnormals and overflow included: F. Giesen's branch-free integer
 * form, so every vector set gives the same bits. The values are finite (never NaN). */
ISA_TARGET
static void KERNEL(to_float16)(const float *restrict in, Py_ssize_t count,
                               uint16_t *restrict out) {
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t x;
        memcpy(&x, &in[i], sizeof x);
        uint32_t sign = (x >> 16) & 0x8000u;
        uint32_t a = x & 0x7FFFFFFFu;
        float magnitude;
        memcpy(&magnitude, &a, sizeof magnitude);
        /* Below 2**-14: adding 0.5 (whose ulp is 2**-24) rounds to the subnormal grid. */
        float aligned = magnitude + 0.5f;
        uint32_t aligned_bits;
        memcpy(&aligned_bits, &aligned, sizeof aligned_bits);
        uint32_t subnormal = aligned_bits - 0x3F000000u;
        /* Normal: rebias the exponent (-112 << 23) and round the 13 dropped bits. */
        uint32_t normal = (a + 0xC8000FFFu + ((a >> 13) & 1u)) >> 13;
        uint32_t h = a >= 0x47800000u ? 0x7C00u : (a < 0x38800000u ? subnormal : normal);
        out[i] = (uint16_t)(h | sign);
    }
}

/* float32 values rounded to bfloat16 bits, to nearest even (torch's and ml_dtypes'). */
ISA_TARGET
static void KERNEL(to_bfloat16)(const float *restrict in, Py_ssize_t count,
                                uint16_t *restrict out) {
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t x;
        memcpy(&x, &in[i], sizeof x);
        out[i] = (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }
}

/* values·scale (+ shift), clamped to [lowest, highest], in place: the same steps as the
 * end of erfinv_finish, for draws made elsewhere (a far tail's inverse CDF). */
ISA_TARGET
static void KERNEL(scale_shift_clip)(float *values, Py_ssize_t count, float scale,
                                     int with_shift, float shift, float lowest,
                                     float highest) {
    for (Py_ssize_t i = 0; i < count; i++) {
        float v = values[i] * scale;
        if (with_shift) {
            v = v + shift;
        }
        v = v < lowest ? lowest : v;
        values[i] = v > highest ? highest : v;
    }
}

static const Kernels KERNEL(kernels) = {
    ISA_NAME,
    KERNEL(uniform01),
    KERNEL(uniform_law),
    KERNEL(erf_interval),
    KERNEL(erfinv_law),
    KERNEL(to_float16),
    KERNEL(to_bfloat16),
    KERNEL(scale_shift_clip),
};

#undef ROUND
#undef KERNEL
#undef KERNEL_NAME1
#undef KERNEL_NAME2
