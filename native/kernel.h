/*
 * zkmeter native kernel: batched secp256k1 point operations and multi-scalar
 * multiplication over packed byte buffers, built on libsecp256k1 internals.
 *
 * The kernel knows nothing about proofs or meters. Every function works on a
 * whole vector per call, so the JavaScript side pays one boundary crossing per
 * vector, never one per point.
 *
 * Byte formats (all big-endian):
 *   point64   x || y, 32 bytes each, affine. The point at infinity is 64 zero
 *             bytes; (0, 0) is not on the curve, so this is unambiguous.
 *   point33   SEC1 compressed, 02/03 || x. There is no encoding of infinity.
 *   scalar32  an integer < n (the group order). Values >= n are rejected.
 *
 * Status: every fallible function returns ZK_OK or one ZK_ERR_* code and, on
 * error, stores the index of the first offending element in *bad.
 */
#ifndef ZKMETER_KERNEL_H
#define ZKMETER_KERNEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    ZK_OK = 0,
    ZK_ERR_POINT = 1,    /* not a valid encoding of a curve point */
    ZK_ERR_SCALAR = 2,   /* scalar >= group order */
    ZK_ERR_INFINITY = 3, /* the point at infinity where it has no encoding */
    ZK_ERR_MEMORY = 4,   /* allocation failed */
    ZK_ERR_INTERNAL = 5  /* libsecp256k1 reported an illegal argument or error */
};

typedef struct zk_table zk_table;

/* Creates the process-wide context (tables for ecmult and ecmult_gen, about
 * 5 ms) and installs non-aborting callbacks. seed32 blinds ecmult_gen.
 * Not thread-safe: the caller runs it exactly once before anything else. */
int zk_init(const unsigned char *seed32);

/* point33[n] -> point64[n]. Rejects bad prefixes, x >= p and x not on the curve. */
int zk_decompress(unsigned char *out64, const unsigned char *in33, size_t n, size_t *bad);
/* point64[n] -> point33[n]. Rejects invalid points and infinity. */
int zk_compress(unsigned char *out33, const unsigned char *in64, size_t n, size_t *bad);
/* Checks that every point64 is infinity or a point on the curve with x, y < p. */
int zk_validate(const unsigned char *in64, size_t n, size_t *bad);

/* out[i] = a[i] + b[i]. Variable time. */
int zk_add(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, size_t n, size_t *bad);
/* out[i] = -a[i]. */
int zk_negate(unsigned char *out64, const unsigned char *a64, size_t n, size_t *bad);
/* out[i] = k[i] * p[i]. With consttime != 0, constant time in k[i] (ecmult_const);
 * otherwise variable time (wNAF ecmult). Bad index: i for a point, n + i for a scalar. */
int zk_mul(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, int consttime, size_t *bad);
/* out[i] = k[i] * G, constant time in k[i] (blinded comb, ecmult_gen). */
int zk_mul_gen(unsigned char *out64, const unsigned char *k32, size_t n, size_t *bad);

/* out = sum_i k[i]*p[i], constant time in the scalars k[i] (not in the points):
 * a multi-point generalisation of ecmult_const (Straus with shared doublings,
 * signed 4-bit windows from wnaf_const, constant-time table lookups, GLV split).
 * Infinity among the points is skipped (points are public).
 * Bad index: i for point i, n + i for scalar i. */
int zk_msm_const(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, size_t *bad);

/* out = sum_i (sel[i] ? a[i] : b[i]), constant time in the selector bytes
 * (each 0 or 1). Bad index: i for a[i], n + i for b[i], 2n + i for sel[i] > 1. */
int zk_select_sum(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, const unsigned char *sel, size_t n, size_t *bad);

/* Scalar-vector accumulation mod n, for verifiers' per-generator coefficients:
 *   acc[offset + stride*i] += c + w * prod_{j<k} pairs[j][bit (k-1-j) of i]   for i < 2^k,
 * where pairs holds k (first, second) scalar pairs: a tensor product of k
 * two-element vectors (round j of an inner-product argument owns bit k-1-j).
 * acc holds 32-byte scalars; c (may be NULL) and w are 32-byte scalars.
 * Bad index: the first non-canonical scalar, counted over [acc entries | pairs | w | c]. */
/* BIP340 signatures: sig64[i] = Sign(seckey32[i], msg32[i]) with auxiliary randomness aux32[i]
 * (libsecp256k1's schnorrsig module, constant time in the key and nonce). Rejects a secret key
 * that is 0 or >= n (ZK_ERR_SCALAR at its index). */
int zk_schnorr_sign(unsigned char *sig64, const unsigned char *msg32, const unsigned char *seckey32,
                    const unsigned char *aux32, size_t n, size_t *bad);

/* out[i] = in[i]^-1 mod n (variable time: public scalars only). Rejects in[i] >= n and 0. */
int zk_scalar_invert(unsigned char *out32, const unsigned char *in32, size_t n, size_t *bad);

int zk_scalar_tensor_acc(unsigned char *acc32, size_t acc_len, size_t offset, size_t stride, size_t k,
                         const unsigned char *pairs32, const unsigned char *w32, const unsigned char *c32, size_t *bad);

/* x-coordinates of start + i*step for i = 0..n-1, 32 bytes each (infinity gives
 * 32 zero bytes; no curve point has x = 0). Variable time. Baby-step giant-step
 * decryption builds its table and walks its giant steps with this. Bad index:
 * 0 for start, 1 for step. */
int zk_progression_x(unsigned char *out32, const unsigned char *start64, const unsigned char *step64, size_t n, size_t *bad);

/* A fixed point set (generators) parsed once and reused across MSMs. */
zk_table *zk_table_create(const unsigned char *p64, size_t n, int *status, size_t *bad);
size_t zk_table_size(const zk_table *t);
size_t zk_table_bytes(const zk_table *t);
void zk_table_destroy(zk_table *t);

/* out = sum_{i<nt} tk[i]*T[i] + sum_{j<n} k[j]*P[j] + g*G, variable time.
 * T is an optional table (nt <= its size); P are point64 (stride 64) or point33
 * (stride 33); g may be NULL. Uses secp256k1_ecmult_multi_var with a scratch
 * space sized for this call, so it never splits into smaller batches.
 * Bad index: over the concatenation [tk | P | k | g]. */
int zk_msm(unsigned char *out64, const zk_table *t, const unsigned char *tk32, size_t nt,
           const unsigned char *pts, int stride, const unsigned char *k32, size_t n,
           const unsigned char *g32, size_t *bad);

/* Scratch bytes zk_msm allocates for n points, and how many points one batch
 * of ecmult_multi_var can take in that scratch (must be >= n). For tests. */
size_t zk_msm_scratch_bytes(size_t n);
size_t zk_msm_batch_capacity(size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ZKMETER_KERNEL_H */
