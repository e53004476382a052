/*
 * zkmeter native kernel. See kernel.h for the byte formats and status codes.
 *
 * libsecp256k1 is compiled here as part of this one C translation unit, so its
 * static internals (field, group, ecmult_multi_var, scratch) are callable.
 * Invariants kept throughout:
 *   - every input point is range-checked (x, y < p) and on-curve checked before
 *     it reaches libsecp256k1, which assumes valid group elements;
 *   - every scalar is rejected on overflow rather than reduced;
 *   - no libsecp256k1 callback aborts the process: ours only record that they
 *     fired (per thread), and each entry point turns that into ZK_ERR_INTERNAL;
 *   - functions documented "CT in ..." (kernel.h) neither branch nor index memory
 *     on those inputs, up to and including storing the result (zk_ge_store64 does
 *     not branch on infinity); native/ctime/ checks this under valgrind;
 *   - no size computation wraps: allocations go through zk_malloc_array and the
 *     scratch estimate saturates, so an absurd count fails with ZK_ERR_MEMORY.
 */
#include "../deps/secp256k1/src/secp256k1.c"

#include "kernel.h"

#include <stdint.h>
#include <string.h>

/*
 * Constant-time verification (native/ctime/): the harness compiles this file with -DVALGRIND,
 * the switch libsecp256k1's own ctime test uses, marks secret inputs undefined with memcheck
 * client requests, and fails if a branch or a memory index depends on them. ZK_DECLASSIFY marks a
 * value computed from secrets as public where leaking it is intended: whether an input is valid
 * (invalid input is refused with an error, so its validity is not secret). The context gets
 * SECP256K1_CONTEXT_DECLASSIFY, so libsecp256k1 declassifies its own such values (schnorrsig's
 * nonce point). Without VALGRIND both are no-ops and the flags are the production ones.
 */
#if defined(VALGRIND)
#include <valgrind/memcheck.h>
#define ZK_DECLASSIFY(p, len) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (len)))
#define ZK_CONTEXT_FLAGS (SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY | SECP256K1_CONTEXT_DECLASSIFY)
#else
#define ZK_DECLASSIFY(p, len) ((void)(p), (void)(len))
#define ZK_CONTEXT_FLAGS (SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY)
#endif

/* malloc(count * size) (at least one element), or NULL when the product does not fit in size_t:
 * a wrapped product would allocate a short buffer that the indexing afterwards overruns. */
static void *zk_malloc_array(size_t count, size_t size) {
    if (count == 0) count = 1;
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    return malloc(count * size);
}

/* a + b and a * b saturating at SIZE_MAX, for size estimates (a saturated size then fails to
 * allocate instead of wrapping to a small one). */
static size_t zk_sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t zk_sat_mul(size_t a, size_t b) { return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b; }

#if defined(_MSC_VER)
#define ZK_THREAD_LOCAL __declspec(thread)
#else
#define ZK_THREAD_LOCAL _Thread_local
#endif

static secp256k1_context *zk_ctx = NULL;
static ZK_THREAD_LOCAL int zk_callback_fired = 0;

static void zk_callback_fn(const char *msg, void *data) {
    (void)msg;
    (void)data;
    zk_callback_fired = 1;
}

static const secp256k1_callback zk_callback = { zk_callback_fn, NULL };

int zk_init(const unsigned char *seed32) {
    if (zk_ctx != NULL) return ZK_OK;
    zk_ctx = secp256k1_context_create(ZK_CONTEXT_FLAGS);
    if (zk_ctx == NULL) return ZK_ERR_MEMORY;
    secp256k1_context_set_illegal_callback(zk_ctx, zk_callback_fn, NULL);
    secp256k1_context_set_error_callback(zk_ctx, zk_callback_fn, NULL);
    if (!secp256k1_context_randomize(zk_ctx, seed32)) return ZK_ERR_INTERNAL;
    return ZK_OK;
}

/* ---- element codecs ---------------------------------------------------- */

/* Parses a point64. Returns 1 and sets *r (possibly infinity) when valid. */
static int zk_ge_load64(secp256k1_ge *r, const unsigned char *in) {
    secp256k1_fe x, y;
    int i, zero = 1;
    for (i = 0; i < 64; i++) zero &= (in[i] == 0);
    if (zero) {
        secp256k1_ge_set_infinity(r);
        return 1;
    }
    if (!secp256k1_fe_set_b32(&x, in) || !secp256k1_fe_set_b32(&y, in + 32)) return 0;
    secp256k1_ge_set_xy(r, &x, &y);
    return secp256k1_ge_is_valid_var(r);
}

/* Parses a point33 (never infinity). */
static int zk_ge_load33(secp256k1_ge *r, const unsigned char *in) {
    secp256k1_fe x;
    if (in[0] != 0x02 && in[0] != 0x03) return 0;
    if (!secp256k1_fe_set_b32(&x, in + 1)) return 0;
    return secp256k1_ge_set_xo_var(r, &x, in[0] == 0x03);
}

/* Stores a point64, constant time in the point (results of secret scalars pass through here):
 * no branch on infinity, which is a property of the secret. The coordinates are normalised and
 * written whatever the flag says, then masked to zero when a->infinity is 1. Every infinity that
 * reaches here has defined coordinates (ge_set_infinity clears them; ge_set_gej of a Jacobian
 * infinity multiplies by inv(0) = 0). a->infinity must be 0 or 1. */
static void zk_ge_store64(unsigned char *out, secp256k1_ge *a) {
    unsigned char keep = (unsigned char)(a->infinity - 1); /* 0xff finite, 0x00 infinity */
    int i;
    secp256k1_fe_normalize(&a->x);
    secp256k1_fe_normalize(&a->y);
    secp256k1_fe_get_b32(out, &a->x);
    secp256k1_fe_get_b32(out + 32, &a->y);
    for (i = 0; i < 64; i++) out[i] &= keep;
}

/* Parses a scalar32, rejecting values >= n instead of reducing them. Constant time in the value;
 * whether it is canonical is declassified (a non-canonical scalar is refused with an error, so
 * that bit is public, and the callers branch on it). */
static int zk_scalar_load(secp256k1_scalar *r, const unsigned char *in) {
    int overflow = 0;
    secp256k1_scalar_set_b32(r, in, &overflow);
    ZK_DECLASSIFY(&overflow, sizeof(overflow));
    return !overflow;
}

/* Converts n Jacobian results to affine with one shared inversion and stores them. */
static int zk_store_all_var(unsigned char *out64, const secp256k1_gej *r, size_t n) {
    secp256k1_ge *ge;
    size_t i;
    if (n == 0) return ZK_OK;
    ge = (secp256k1_ge *)zk_malloc_array(n, sizeof(secp256k1_ge));
    if (ge == NULL) return ZK_ERR_MEMORY;
    secp256k1_ge_set_all_gej_var(ge, r, n);
    for (i = 0; i < n; i++) zk_ge_store64(out64 + 64 * i, &ge[i]);
    free(ge);
    return ZK_OK;
}

/* ---- batched point operations ------------------------------------------ */

int zk_decompress(unsigned char *out64, const unsigned char *in33, size_t n, size_t *bad) {
    size_t i;
    secp256k1_ge a;
    for (i = 0; i < n; i++) {
        if (!zk_ge_load33(&a, in33 + 33 * i)) {
            *bad = i;
            return ZK_ERR_POINT;
        }
        zk_ge_store64(out64 + 64 * i, &a);
    }
    return ZK_OK;
}

int zk_compress(unsigned char *out33, const unsigned char *in64, size_t n, size_t *bad) {
    size_t i;
    secp256k1_ge a;
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&a, in64 + 64 * i)) {
            *bad = i;
            return ZK_ERR_POINT;
        }
        if (secp256k1_ge_is_infinity(&a)) {
            *bad = i;
            return ZK_ERR_INFINITY;
        }
        /* Loaded from canonical bytes, so x is already normalized. */
        out33[33 * i] = (in64[64 * i + 63] & 1) ? 0x03 : 0x02;
        memcpy(out33 + 33 * i + 1, in64 + 64 * i, 32);
    }
    return ZK_OK;
}

int zk_validate(const unsigned char *in64, size_t n, size_t *bad) {
    size_t i;
    secp256k1_ge a;
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&a, in64 + 64 * i)) {
            *bad = i;
            return ZK_ERR_POINT;
        }
    }
    return ZK_OK;
}

int zk_add(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, size_t n, size_t *bad) {
    secp256k1_gej *r;
    secp256k1_ge a, b;
    size_t i;
    int status;
    if (n == 0) return ZK_OK;
    r = (secp256k1_gej *)zk_malloc_array(n, sizeof(secp256k1_gej));
    if (r == NULL) return ZK_ERR_MEMORY;
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&a, a64 + 64 * i)) {
            *bad = i;
            free(r);
            return ZK_ERR_POINT;
        }
        if (!zk_ge_load64(&b, b64 + 64 * i)) {
            *bad = n + i;
            free(r);
            return ZK_ERR_POINT;
        }
        secp256k1_gej_set_ge(&r[i], &a);
        /* gej_add_ge_var handles infinity on either side and a == +-b. */
        secp256k1_gej_add_ge_var(&r[i], &r[i], &b, NULL);
    }
    status = zk_store_all_var(out64, r, n);
    free(r);
    return status;
}

int zk_negate(unsigned char *out64, const unsigned char *a64, size_t n, size_t *bad) {
    size_t i;
    secp256k1_ge a;
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&a, a64 + 64 * i)) {
            *bad = i;
            return ZK_ERR_POINT;
        }
        secp256k1_ge_neg(&a, &a);
        zk_ge_store64(out64 + 64 * i, &a);
    }
    return ZK_OK;
}

int zk_mul(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, int consttime, size_t *bad) {
    secp256k1_gej *r;
    secp256k1_ge a;
    secp256k1_scalar k, zero;
    size_t i;
    int status = ZK_OK;
    if (n == 0) return ZK_OK;
    r = (secp256k1_gej *)zk_malloc_array(n, sizeof(secp256k1_gej));
    if (r == NULL) return ZK_ERR_MEMORY;
    secp256k1_scalar_set_int(&zero, 0);
    for (i = 0; i < n && status == ZK_OK; i++) {
        if (!zk_ge_load64(&a, p64 + 64 * i)) {
            *bad = i;
            status = ZK_ERR_POINT;
        } else if (!zk_scalar_load(&k, k32 + 32 * i)) {
            *bad = n + i;
            status = ZK_ERR_SCALAR;
        } else if (secp256k1_ge_is_infinity(&a)) {
            /* The point is public; branching on it leaks nothing about k. */
            secp256k1_gej_set_infinity(&r[i]);
        } else if (consttime) {
            /* ecmult_const handles k = 0 through its skew correction (tested). */
            secp256k1_ecmult_const(&r[i], &a, &k, 256);
        } else {
            secp256k1_gej aj;
            secp256k1_gej_set_ge(&aj, &a);
            secp256k1_ecmult(&zk_ctx->ecmult_ctx, &r[i], &aj, &k, &zero);
        }
    }
    secp256k1_scalar_clear(&k);
    if (status == ZK_OK) {
        if (consttime) {
            /* Constant-time inversion per element: the results depend on secrets. */
            for (i = 0; i < n; i++) {
                secp256k1_ge ge;
                secp256k1_ge_set_gej(&ge, &r[i]);
                zk_ge_store64(out64 + 64 * i, &ge);
            }
        } else {
            status = zk_store_all_var(out64, r, n);
        }
    }
    memset(r, 0, n * sizeof(secp256k1_gej));
    free(r);
    return status;
}

int zk_mul_gen(unsigned char *out64, const unsigned char *k32, size_t n, size_t *bad) {
    size_t i;
    secp256k1_scalar k;
    secp256k1_gej rj;
    secp256k1_ge r;
    for (i = 0; i < n; i++) {
        if (!zk_scalar_load(&k, k32 + 32 * i)) {
            *bad = i;
            return ZK_ERR_SCALAR;
        }
        secp256k1_ecmult_gen(&zk_ctx->ecmult_gen_ctx, &rj, &k);
        secp256k1_ge_set_gej(&r, &rj);
        zk_ge_store64(out64 + 64 * i, &r);
    }
    secp256k1_scalar_clear(&k);
    secp256k1_gej_clear(&rj);
    return ZK_OK;
}

int zk_progression_x(unsigned char *out32, const unsigned char *start64, const unsigned char *step64, size_t n, size_t *bad) {
    /* Chunks bound the temporary memory; each chunk costs one shared inversion. */
    enum { CHUNK = 1024 };
    secp256k1_gej *acc;
    secp256k1_ge *ge, step, start;
    secp256k1_gej cur;
    size_t done = 0, i;
    if (!zk_ge_load64(&start, start64)) {
        *bad = 0;
        return ZK_ERR_POINT;
    }
    if (!zk_ge_load64(&step, step64)) {
        *bad = 1;
        return ZK_ERR_POINT;
    }
    if (n == 0) return ZK_OK;
    acc = (secp256k1_gej *)malloc(CHUNK * sizeof(secp256k1_gej));
    ge = (secp256k1_ge *)malloc(CHUNK * sizeof(secp256k1_ge));
    if (acc == NULL || ge == NULL) {
        free(acc);
        free(ge);
        return ZK_ERR_MEMORY;
    }
    secp256k1_gej_set_ge(&cur, &start);
    while (done < n) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        for (i = 0; i < m; i++) {
            acc[i] = cur;
            secp256k1_gej_add_ge_var(&cur, &cur, &step, NULL);
        }
        secp256k1_ge_set_all_gej_var(ge, acc, m);
        for (i = 0; i < m; i++) {
            unsigned char *o = out32 + 32 * (done + i);
            if (secp256k1_ge_is_infinity(&ge[i])) {
                memset(o, 0, 32);
            } else {
                secp256k1_fe_normalize_var(&ge[i].x);
                secp256k1_fe_get_b32(o, &ge[i].x);
            }
        }
        done += m;
    }
    free(acc);
    free(ge);
    return ZK_OK;
}

/* ---- constant-time multi-scalar multiplication ---------------------------- */

/*
 * Straus (interleaved) multiplication with the building blocks of
 * secp256k1_ecmult_const, so that the scalars never influence branches or
 * memory addresses:
 *   - each scalar is split k = k1 + k2*lambda (secp256k1_scalar_split_lambda)
 *     and each half recoded by secp256k1_wnaf_const into odd signed digits of
 *     WINDOW_A - 1 bits, plus a skew (1 or 2) that is subtracted at the end;
 *   - per point, a table of odd multiples P, 3P, ..., 15P (affine, built with
 *     variable-time code: it depends on the public points only) and its lambda
 *     image;
 *   - one shared chain of doublings; per window and per point, two
 *     constant-time table lookups (ECMULT_CONST_TABLE_GET_GE scans the whole
 *     table with cmov) and two complete mixed additions (secp256k1_gej_add_ge,
 *     which also covers infinity, doubling and P + (-P) in constant time).
 *
 * Why every scalar, including 0, 1, n - 1 and scalars whose lambda halves are 0
 * or -1, takes the same path (checked under valgrind by native/ctime/):
 *   - split_lambda is branch-free (its mul_shift_var is "var" in the shift
 *     count only, a constant 384); wnaf_const handles even/odd, "high" halves and
 *     -1 with cmov-style arithmetic and always emits WN non-zero odd digits, so
 *     the loop count and the table lookups never depend on the scalar; a zero
 *     scalar is recoded as 0 + skew, and the skew is subtracted by a cmov-selected
 *     point, so it too costs the same additions;
 *   - gej_add_ge's one documented exclusion, b at infinity, never occurs: every
 *     b is an odd multiple jP (1 <= j <= 15 < n) of a finite point, 2P, or a
 *     lambda image or negation of one, all finite because n is prime. Its
 *     accumulator a may be infinity (the start, or terms that cancel), which it
 *     handles by cmov, and a = +-b by its unified formula plus the cmov'd
 *     alternative for the degenerate y1 = -y2, x1 != x2 case;
 *   - the result is left in Jacobian coordinates; callers convert it with
 *     ge_set_gej (constant-time field inversion) and zk_ge_store64 (no branch on
 *     infinity).
 * The points are public: their parsing, the infinity skip and the tables are
 * variable time. Bad index: i for point i, n + i for scalar i (checked in that
 * order per i).
 */
static int zk_msm_const_gej(secp256k1_gej *result, const unsigned char *p64, const unsigned char *k32, size_t n, size_t *bad) {
    enum { TS = ECMULT_TABLE_SIZE(WINDOW_A), WN = 1 + WNAF_SIZE(WINDOW_A - 1) };
    secp256k1_ge *pts = NULL, *pre = NULL, *pre_lam = NULL, *dbl = NULL;
    secp256k1_gej *tmp = NULL, r;
    int *wnaf = NULL, *skew = NULL;
    size_t i, m = 0, j;
    int status = ZK_OK, w;

    pts = (secp256k1_ge *)zk_malloc_array(n, sizeof(secp256k1_ge));
    wnaf = (int *)zk_malloc_array(n, 2 * WN * sizeof(int));
    skew = (int *)zk_malloc_array(n, 2 * sizeof(int));
    if (pts == NULL || wnaf == NULL || skew == NULL) {
        status = ZK_ERR_MEMORY;
        goto done;
    }
    /* Parse; keep only finite points (a public property). */
    for (i = 0; i < n; i++) {
        secp256k1_scalar k, k1, k2;
        if (!zk_ge_load64(&pts[m], p64 + 64 * i)) {
            *bad = i;
            status = ZK_ERR_POINT;
            goto done;
        }
        if (!zk_scalar_load(&k, k32 + 32 * i)) {
            *bad = n + i;
            status = ZK_ERR_SCALAR;
            goto done;
        }
        if (secp256k1_ge_is_infinity(&pts[m])) continue;
        secp256k1_scalar_split_lambda(&k1, &k2, &k);
        skew[2 * m] = secp256k1_wnaf_const(&wnaf[2 * m * WN], &k1, WINDOW_A - 1, 128);
        skew[2 * m + 1] = secp256k1_wnaf_const(&wnaf[(2 * m + 1) * WN], &k2, WINDOW_A - 1, 128);
        secp256k1_scalar_clear(&k);
        secp256k1_scalar_clear(&k1);
        secp256k1_scalar_clear(&k2);
        m++;
    }
    secp256k1_gej_set_infinity(&r);
    if (m > 0) {
        pre = (secp256k1_ge *)zk_malloc_array(m, TS * sizeof(secp256k1_ge));
        pre_lam = (secp256k1_ge *)zk_malloc_array(m, TS * sizeof(secp256k1_ge));
        dbl = (secp256k1_ge *)zk_malloc_array(m, sizeof(secp256k1_ge));
        tmp = (secp256k1_gej *)zk_malloc_array(m, (TS + 1) * sizeof(secp256k1_gej));
        if (pre == NULL || pre_lam == NULL || dbl == NULL || tmp == NULL) {
            status = ZK_ERR_MEMORY;
            goto done;
        }
        /* Odd multiples (and 2P for the skew correction), all normalised with one inversion. */
        for (i = 0; i < m; i++) {
            secp256k1_gej *t = &tmp[i * (TS + 1)];
            secp256k1_gej d;
            secp256k1_gej_set_ge(&t[0], &pts[i]);
            secp256k1_gej_double_var(&d, &t[0], NULL);
            for (j = 1; j < TS; j++) secp256k1_gej_add_var(&t[j], &t[j - 1], &d, NULL);
            t[TS] = d;
        }
        {
            secp256k1_ge *all = (secp256k1_ge *)zk_malloc_array(m, (TS + 1) * sizeof(secp256k1_ge));
            if (all == NULL) {
                status = ZK_ERR_MEMORY;
                goto done;
            }
            secp256k1_ge_set_all_gej_var(all, tmp, m * (TS + 1));
            for (i = 0; i < m; i++) {
                for (j = 0; j < TS; j++) {
                    pre[i * TS + j] = all[i * (TS + 1) + j];
                    secp256k1_fe_normalize_weak(&pre[i * TS + j].y);
                    secp256k1_ge_mul_lambda(&pre_lam[i * TS + j], &pre[i * TS + j]);
                }
                dbl[i] = all[i * (TS + 1) + TS];
            }
            free(all);
        }
        /* The shared doubling chain, from the most significant window down. */
        for (w = WN - 1; w >= 0; w--) {
            secp256k1_ge a;
            if (w != WN - 1) {
                for (j = 0; j < WINDOW_A - 1; j++) secp256k1_gej_double(&r, &r);
            }
            for (i = 0; i < m; i++) {
                int d1 = wnaf[2 * i * WN + w], d2 = wnaf[(2 * i + 1) * WN + w];
                ECMULT_CONST_TABLE_GET_GE(&a, &pre[i * TS], d1, WINDOW_A);
                secp256k1_gej_add_ge(&r, &r, &a);
                ECMULT_CONST_TABLE_GET_GE(&a, &pre_lam[i * TS], d2, WINDOW_A);
                secp256k1_gej_add_ge(&r, &r, &a);
            }
        }
        /* Skew: the digits encode k_h + skew_h (skew 1 for even, 2 for odd halves); subtract it. */
        for (i = 0; i < m; i++) {
            secp256k1_ge_storage c1, c2, twice;
            secp256k1_ge c;
            secp256k1_ge_to_storage(&c1, &pts[i]);
            secp256k1_ge_to_storage(&c2, &pts[i]);
            secp256k1_ge_to_storage(&twice, &dbl[i]);
            secp256k1_ge_storage_cmov(&c1, &twice, skew[2 * i] == 2);
            secp256k1_ge_storage_cmov(&c2, &twice, skew[2 * i + 1] == 2);
            secp256k1_ge_from_storage(&c, &c1);
            secp256k1_ge_neg(&c, &c);
            secp256k1_gej_add_ge(&r, &r, &c);
            secp256k1_ge_from_storage(&c, &c2);
            secp256k1_ge_neg(&c, &c);
            secp256k1_ge_mul_lambda(&c, &c);
            secp256k1_gej_add_ge(&r, &r, &c);
        }
    }
    *result = r;

done:
    if (wnaf != NULL) memset(wnaf, 0, (n ? n : 1) * 2 * WN * sizeof(int));
    if (skew != NULL) memset(skew, 0, (n ? n : 1) * 2 * sizeof(int));
    free(pts);
    free(pre);
    free(pre_lam);
    free(dbl);
    free(tmp);
    free(wnaf);
    free(skew);
    secp256k1_gej_clear(&r);
    return status;
}

int zk_msm_const(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, size_t *bad) {
    secp256k1_gej r;
    secp256k1_ge out;
    int status = zk_msm_const_gej(&r, p64, k32, n, bad);
    if (status == ZK_OK) {
        secp256k1_ge_set_gej(&out, &r);
        zk_ge_store64(out64, &out);
        secp256k1_ge_clear(&out);
    }
    secp256k1_gej_clear(&r);
    return status;
}

int zk_select_sum(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, const unsigned char *sel, size_t n,
                  const unsigned char *p64, const unsigned char *k32, size_t m, size_t *bad) {
    secp256k1_gej r;
    secp256k1_ge a, b, out;
    secp256k1_ge_storage as, bs;
    size_t i, sub = 0;
    int over = 0, status;
    /* Check everything before any secret-dependent work, so that no early exit depends on a
     * selector's value: all of a, then all of b (public points), then the selectors. */
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&a, a64 + 64 * i) || secp256k1_ge_is_infinity(&a)) {
            *bad = i;
            return ZK_ERR_POINT;
        }
    }
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&b, b64 + 64 * i) || secp256k1_ge_is_infinity(&b)) {
            *bad = n + i;
            return ZK_ERR_POINT;
        }
    }
    /* Whether every selector is 0 or 1 is computed without branches and declassified as one
     * bit (valid input is public knowledge); only on invalid input is the offending one sought. */
    for (i = 0; i < n; i++) over |= sel[i] >> 1;
    ZK_DECLASSIFY(&over, sizeof(over));
    if (over) {
        for (i = 0; i < n; i++) {
            int this_over = sel[i] >> 1;
            ZK_DECLASSIFY(&this_over, sizeof(this_over));
            if (this_over) break;
        }
        *bad = 2 * n + i;
        return ZK_ERR_SCALAR;
    }
    /* The extra terms sum k[j]*p[j] start the accumulator (infinity when m = 0). */
    status = zk_msm_const_gej(&r, p64, k32, m, &sub);
    if (status != ZK_OK) {
        *bad = 3 * n + sub;
        return status;
    }
    for (i = 0; i < n; i++) {
        /* Both candidates are finite (checked above), so gej_add_ge's b is never infinity; its
         * accumulator may be (the start, or a sum that cancels), which it handles by cmov. */
        zk_ge_load64(&a, a64 + 64 * i);
        zk_ge_load64(&b, b64 + 64 * i);
        secp256k1_ge_to_storage(&as, &a);
        secp256k1_ge_to_storage(&bs, &b);
        secp256k1_ge_storage_cmov(&bs, &as, sel[i]);
        secp256k1_ge_from_storage(&b, &bs);
        secp256k1_gej_add_ge(&r, &r, &b);
    }
    secp256k1_ge_set_gej(&out, &r);
    zk_ge_store64(out64, &out);
    secp256k1_gej_clear(&r);
    secp256k1_ge_clear(&out);
    secp256k1_ge_clear(&b);
    memset(&bs, 0, sizeof(bs));
    return ZK_OK;
}

/* ---- scalar vectors -------------------------------------------------------- */

int zk_schnorr_sign(unsigned char *sig64, const unsigned char *msg32, const unsigned char *seckey32,
                    const unsigned char *aux32, size_t n, size_t *bad) {
    size_t i;
    secp256k1_keypair keypair;
    int status = ZK_OK;
    for (i = 0; i < n; i++) {
        /* keypair_create returns 0 (without calling the illegal callback) for 0 or >= n. It
         * computes that bit in constant time and leaves it secret-dependent; we branch on it, so
         * declassify it: an invalid key is refused with an error, its validity is not secret. */
        int ok = secp256k1_keypair_create(zk_ctx, &keypair, seckey32 + 32 * i);
        ZK_DECLASSIFY(&ok, sizeof(ok));
        if (!ok) {
            *bad = i;
            status = ZK_ERR_SCALAR;
            break;
        }
        /* NULL nonce function = BIP340's; aux32 is its auxiliary randomness (32 bytes). Its
         * result is 0 only if the derived nonce is 0 (probability ~2^-256): public as well. */
        ok = secp256k1_schnorrsig_sign(zk_ctx, sig64 + 64 * i, msg32 + 32 * i, &keypair, NULL, (void *)(aux32 + 32 * i));
        ZK_DECLASSIFY(&ok, sizeof(ok));
        if (!ok) {
            *bad = i;
            status = ZK_ERR_INTERNAL;
            break;
        }
    }
    memset(&keypair, 0, sizeof(keypair));
    return status;
}

int zk_scalar_invert(unsigned char *out32, const unsigned char *in32, size_t n, size_t *bad) {
    size_t i;
    secp256k1_scalar *prefix, a, inv;
    if (n == 0) return ZK_OK;
    prefix = (secp256k1_scalar *)zk_malloc_array(n, sizeof(secp256k1_scalar));
    if (prefix == NULL) return ZK_ERR_MEMORY;
    /* Montgomery's trick: prefix[i] = in[0]·…·in[i]; one inversion of prefix[n−1];
     * then walk back: in[i]⁻¹ = prefix[i−1]·(in[0]·…·in[i])⁻¹. Every in[i] is non-zero,
     * so every prefix product is too (Z_n is a field). */
    for (i = 0; i < n; i++) {
        /* Zero has no inverse (scalar_inverse_var would return 0): refuse it. */
        if (!zk_scalar_load(&a, in32 + 32 * i) || secp256k1_scalar_is_zero(&a)) {
            *bad = i;
            free(prefix);
            return ZK_ERR_SCALAR;
        }
        if (i == 0) prefix[0] = a;
        else secp256k1_scalar_mul(&prefix[i], &prefix[i - 1], &a);
    }
    /* safegcd (modinv64), variable time: for public scalars such as challenges. */
    secp256k1_scalar_inverse_var(&inv, &prefix[n - 1]);
    for (i = n; i-- > 1;) {
        secp256k1_scalar r;
        secp256k1_scalar_mul(&r, &inv, &prefix[i - 1]);
        zk_scalar_load(&a, in32 + 32 * i);
        secp256k1_scalar_mul(&inv, &inv, &a);
        secp256k1_scalar_get_b32(out32 + 32 * i, &r);
    }
    secp256k1_scalar_get_b32(out32, &inv);
    free(prefix);
    return ZK_OK;
}

int zk_scalar_tensor_acc(unsigned char *acc32, size_t acc_len, size_t offset, size_t stride, size_t k,
                         const unsigned char *pairs32, const unsigned char *w32, const unsigned char *c32, size_t *bad) {
    size_t N, i, j;
    secp256k1_scalar *t = NULL, *p0 = NULL, *ratio = NULL, w, c, a;
    int status = ZK_OK, walk = 1;
    /* k is checked before it is used as a shift count (a shift by >= the width of size_t is
     * undefined behaviour), and the last index offset + stride*(N-1) is bounded without forming
     * that sum or product, either of which could wrap size_t to a small, "valid" index. */
    if (k > 30 || stride == 0) return ZK_ERR_INTERNAL;
    N = (size_t)1 << k;
    if (offset >= acc_len || (N > 1 && stride > (acc_len - 1 - offset) / (N - 1))) return ZK_ERR_INTERNAL;
    t = (secp256k1_scalar *)zk_malloc_array(N, sizeof(secp256k1_scalar));
    p0 = (secp256k1_scalar *)zk_malloc_array(k, sizeof(secp256k1_scalar));
    ratio = (secp256k1_scalar *)zk_malloc_array(k, sizeof(secp256k1_scalar));
    if (t == NULL || p0 == NULL || ratio == NULL) {
        status = ZK_ERR_MEMORY;
        goto done;
    }
    /* Round j owns bit b = k-1-j of the index: p0[b], p1[b] (p1 is kept in `ratio` until
     * it becomes p1/p0 below). */
    for (j = 0; j < k; j++) {
        if (!zk_scalar_load(&p0[k - 1 - j], pairs32 + 64 * j)) {
            *bad = N + 2 * j;
            status = ZK_ERR_SCALAR;
            goto done;
        }
        if (!zk_scalar_load(&ratio[k - 1 - j], pairs32 + 64 * j + 32)) {
            *bad = N + 2 * j + 1;
            status = ZK_ERR_SCALAR;
            goto done;
        }
        if (secp256k1_scalar_is_zero(&p0[k - 1 - j])) walk = 0;
    }
    if (!zk_scalar_load(&w, w32)) {
        *bad = N + 2 * k;
        status = ZK_ERR_SCALAR;
        goto done;
    }
    if (c32 != NULL && !zk_scalar_load(&c, c32)) {
        *bad = N + 2 * k + 1;
        status = ZK_ERR_SCALAR;
        goto done;
    }
    if (walk) {
        for (j = 0; j < k; j++) {
            secp256k1_scalar inv;
            secp256k1_scalar_inverse_var(&inv, &p0[j]);
            secp256k1_scalar_mul(&ratio[j], &ratio[j], &inv);
        }
    }
    if (walk) {
        /* t[0] = w·Π p0; then t[i] = t[i − 2^b]·ratio[b] with b the top bit of i: one
         * multiplication per element (the doubling construction below needs two). */
        t[0] = w;
        for (j = 0; j < k; j++) secp256k1_scalar_mul(&t[0], &t[0], &p0[j]);
        for (j = 0; j < k; j++) {
            size_t half = (size_t)1 << j;
            for (i = 0; i < half; i++) secp256k1_scalar_mul(&t[half + i], &t[i], &ratio[j]);
        }
    } else {
        /* Some p0 is zero: the doubling construction, level by level from the top bit. */
        size_t len;
        t[0] = w;
        for (len = 1, j = k; j-- > 0; len *= 2) {
            /* Bit j: children 2i (p0) and 2i+1 (p1, in `ratio`) keep the earlier bits above. */
            for (i = len; i-- > 0;) {
                secp256k1_scalar_mul(&t[2 * i + 1], &t[i], &ratio[j]);
                secp256k1_scalar_mul(&t[2 * i], &t[i], &p0[j]);
            }
        }
    }
    /* Checked in the order pairs, w, c, acc entries (as js.ts does). Accumulate into t
     * first and write back only when every entry parsed, so a bad entry leaves acc untouched. */
    for (i = 0; i < N; i++) {
        if (!zk_scalar_load(&a, acc32 + 32 * (offset + stride * i))) {
            *bad = i;
            status = ZK_ERR_SCALAR;
            goto done;
        }
        secp256k1_scalar_add(&t[i], &t[i], &a);
        if (c32 != NULL) secp256k1_scalar_add(&t[i], &t[i], &c);
    }
    for (i = 0; i < N; i++) secp256k1_scalar_get_b32(acc32 + 32 * (offset + stride * i), &t[i]);
done:
    free(t);
    free(p0);
    free(ratio);
    return status;
}

/* ---- generator tables -------------------------------------------------- */

struct zk_table {
    size_t n;
    secp256k1_ge *pts;
};

zk_table *zk_table_create(const unsigned char *p64, size_t n, int *status, size_t *bad) {
    zk_table *t = (zk_table *)malloc(sizeof(zk_table));
    size_t i;
    if (t == NULL) {
        *status = ZK_ERR_MEMORY;
        return NULL;
    }
    t->n = n;
    t->pts = (secp256k1_ge *)zk_malloc_array(n, sizeof(secp256k1_ge));
    if (t->pts == NULL) {
        free(t);
        *status = ZK_ERR_MEMORY;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!zk_ge_load64(&t->pts[i], p64 + 64 * i)) {
            *bad = i;
            *status = ZK_ERR_POINT;
            zk_table_destroy(t);
            return NULL;
        }
    }
    *status = ZK_OK;
    return t;
}

size_t zk_table_size(const zk_table *t) { return t->n; }

size_t zk_table_bytes(const zk_table *t) { return sizeof(zk_table) + t->n * sizeof(secp256k1_ge); }

void zk_table_destroy(zk_table *t) {
    if (t == NULL) return;
    free(t->pts);
    free(t);
}

/* ---- multi-scalar multiplication --------------------------------------- */

/*
 * Scratch sizing. ecmult_multi_var asks secp256k1_pippenger_max_points how many
 * points fit; if fewer than n, it silently splits the MSM into batches (about
 * 2x slower). That function walks bucket windows upward and stops at the first
 * window whose full range does not fit, so we must leave room, for every window
 * up to the one that covers n, for min(n, that window's range) points — not just
 * for n points at the optimal window. Then add the alignment slack scratch_alloc
 * reserves per object. Strauss (used below ECMULT_PIPPENGER_THRESHOLD) needs
 * strauss_scratch_size(n) plus its own slack; above the threshold it is never
 * used, and sizing for it would cost about 4 KiB per point for nothing.
 */
static size_t zk_pippenger_need(size_t n) {
    size_t need = 0;
    int w;
    for (w = 1; w <= PIPPENGER_MAX_BUCKET_WINDOW; w++) {
        size_t range = secp256k1_pippenger_bucket_window_inv(w);
        size_t pts = range < n ? range : n;
        size_t entry2 = 2 * (sizeof(secp256k1_ge) + sizeof(secp256k1_scalar) + sizeof(struct secp256k1_pippenger_point_state) +
                             (WNAF_SIZE(w + 1) + 1) * sizeof(int));
        size_t overhead = (sizeof(secp256k1_gej) << w) + entry2 + sizeof(struct secp256k1_pippenger_state);
        /* Saturating: for absurd n the estimate pins at SIZE_MAX and the allocation fails. */
        size_t here = zk_sat_add(overhead, zk_sat_mul(pts, entry2));
        if (here > need) need = here;
        if (range >= n) break;
    }
    return zk_sat_add(need, PIPPENGER_SCRATCH_OBJECTS * ALIGNMENT);
}

/* secp256k1_scratch_create allocates a header plus `size` bytes without checking that sum, and
 * then trusts `size` as its capacity: refuse sizes where the sum could wrap (or that saturated). */
static secp256k1_scratch *zk_scratch_create(size_t size) {
    if (size > SIZE_MAX / 2) return NULL;
    return secp256k1_scratch_create(&zk_callback, size);
}

size_t zk_msm_scratch_bytes(size_t n) {
    size_t pip = zk_pippenger_need(n);
    size_t str;
    if (n >= ECMULT_PIPPENGER_THRESHOLD) return pip;
    /* Here n < ECMULT_PIPPENGER_THRESHOLD (88), so Strauss' own size arithmetic cannot wrap. */
    str = secp256k1_strauss_scratch_size(n) + STRAUSS_SCRATCH_OBJECTS * ALIGNMENT;
    return pip > str ? pip : str;
}

size_t zk_msm_batch_capacity(size_t n) {
    secp256k1_scratch *s = zk_scratch_create(zk_msm_scratch_bytes(n));
    size_t cap;
    if (s == NULL) return 0;
    cap = secp256k1_pippenger_max_points(&zk_callback, s);
    if (n < ECMULT_PIPPENGER_THRESHOLD) {
        size_t strauss = secp256k1_strauss_max_points(&zk_callback, s);
        if (strauss < cap) cap = strauss;
    }
    secp256k1_scratch_destroy(&zk_callback, s);
    return cap;
}

typedef struct {
    const secp256k1_ge *table;
    size_t nt;
    const secp256k1_scalar *sc; /* nt table scalars followed by n point scalars */
    const secp256k1_ge *pts;    /* n variable points */
} zk_msm_data;

static int zk_msm_cb(secp256k1_scalar *sc, secp256k1_ge *pt, size_t idx, void *data) {
    const zk_msm_data *d = (const zk_msm_data *)data;
    *sc = d->sc[idx];
    *pt = idx < d->nt ? d->table[idx] : d->pts[idx - d->nt];
    return 1;
}

int zk_msm(unsigned char *out64, const zk_table *t, const unsigned char *tk32, size_t nt,
           const unsigned char *pts, int stride, const unsigned char *k32, size_t n,
           const unsigned char *g32, size_t *bad) {
    secp256k1_scalar *sc = NULL, g;
    secp256k1_ge *pt = NULL;
    secp256k1_scratch *scratch = NULL;
    secp256k1_gej rj;
    secp256k1_ge r;
    zk_msm_data d;
    size_t i, total;
    int status = ZK_OK;

    if (nt > 0 && (t == NULL || nt > t->n)) return ZK_ERR_INTERNAL;
    if (n > SIZE_MAX - nt) return ZK_ERR_MEMORY; /* nt + n must not wrap */
    total = nt + n;
    if (stride != 33 && stride != 64) return ZK_ERR_INTERNAL;
    sc = (secp256k1_scalar *)zk_malloc_array(total, sizeof(secp256k1_scalar));
    pt = (secp256k1_ge *)zk_malloc_array(n, sizeof(secp256k1_ge));
    if (sc == NULL || pt == NULL) {
        status = ZK_ERR_MEMORY;
        goto done;
    }
    for (i = 0; i < nt; i++) {
        if (!zk_scalar_load(&sc[i], tk32 + 32 * i)) {
            *bad = i;
            status = ZK_ERR_SCALAR;
            goto done;
        }
    }
    for (i = 0; i < n; i++) {
        int ok = stride == 64 ? zk_ge_load64(&pt[i], pts + 64 * i) : zk_ge_load33(&pt[i], pts + 33 * i);
        if (!ok) {
            *bad = nt + i;
            status = ZK_ERR_POINT;
            goto done;
        }
    }
    for (i = 0; i < n; i++) {
        if (!zk_scalar_load(&sc[nt + i], k32 + 32 * i)) {
            *bad = nt + n + i;
            status = ZK_ERR_SCALAR;
            goto done;
        }
    }
    if (g32 != NULL && !zk_scalar_load(&g, g32)) {
        *bad = nt + 2 * n;
        status = ZK_ERR_SCALAR;
        goto done;
    }
    if (total > 0) {
        scratch = zk_scratch_create(zk_msm_scratch_bytes(total));
        if (scratch == NULL) {
            status = ZK_ERR_MEMORY;
            goto done;
        }
    }
    d.table = t != NULL ? t->pts : NULL;
    d.nt = nt;
    d.sc = sc;
    d.pts = pt;
    zk_callback_fired = 0;
    if (!secp256k1_ecmult_multi_var(&zk_callback, &zk_ctx->ecmult_ctx, scratch, &rj, g32 != NULL ? &g : NULL, zk_msm_cb, &d, total) ||
        zk_callback_fired) {
        status = ZK_ERR_INTERNAL;
        goto done;
    }
    secp256k1_ge_set_gej_var(&r, &rj);
    zk_ge_store64(out64, &r);

done:
    if (scratch != NULL) secp256k1_scratch_destroy(&zk_callback, scratch);
    free(sc);
    free(pt);
    return status;
}
