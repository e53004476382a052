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
 *
 * Timing: each function states what it is constant time in ("CT in ..."):
 * no branch and no memory index depends on those inputs, and its results
 * are stored without branching on them (infinity included). Everything else
 * (points passed in, counts, and whether an input is valid, since invalid
 * input is refused with an error) is public. "Variable time" functions are
 * for public inputs only. native/ctime/ checks the CT claims under valgrind.
 * Buffer sizes are the caller's contract (the N-API layer checks them, with
 * overflow-safe arithmetic); kernel allocations refuse sizes that would wrap.
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
 * 5 ms) and installs non-aborting callbacks. seed32 blinds ecmult_gen: CT in
 * seed32 (context_randomize). Not thread-safe: the caller runs it exactly once
 * before anything else. */
int zk_init(const unsigned char *seed32);

/* The codecs below are variable time: public points only. */
/* point33[n] -> point64[n]. Rejects bad prefixes, x >= p and x not on the curve. */
int zk_decompress(unsigned char *out64, const unsigned char *in33, size_t n, size_t *bad);
/* point64[n] -> point33[n]. Rejects invalid points and infinity. */
int zk_compress(unsigned char *out33, const unsigned char *in64, size_t n, size_t *bad);
/* Checks that every point64 is infinity or a point on the curve with x, y < p. */
int zk_validate(const unsigned char *in64, size_t n, size_t *bad);

/* out[i] = a[i] + b[i]. Variable time: public points only. */
int zk_add(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, size_t n, size_t *bad);
/* out[i] = -a[i]. Variable time: public points only. */
int zk_negate(unsigned char *out64, const unsigned char *a64, size_t n, size_t *bad);
/* out[i] = k[i] * p[i]. With consttime != 0, CT in k[i] (ecmult_const, then one
 * constant-time inversion per element), not in p[i]; with consttime == 0,
 * variable time in everything (wNAF ecmult, shared variable-time inversion):
 * public scalars only. Bad index: i for a point, n + i for a scalar. */
int zk_mul(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, int consttime, size_t *bad);
/* out[i] = k[i] * G, CT in k[i] (blinded comb, ecmult_gen; constant-time inversion). */
int zk_mul_gen(unsigned char *out64, const unsigned char *k32, size_t n, size_t *bad);

/* out = sum_i k[i]*p[i], CT in the scalars k[i], 0 and n-1 included (not in the
 * points, which must be public): a multi-point generalisation of ecmult_const
 * (Straus with shared doublings, signed 4-bit windows from wnaf_const,
 * constant-time table lookups, GLV split), then a constant-time inversion.
 * Infinity among the points is skipped (points are public).
 * Bad index: i for point i, n + i for scalar i. */
int zk_msm_const(unsigned char *out64, const unsigned char *p64, const unsigned char *k32, size_t n, size_t *bad);

/* out = sum_{j<m} k[j]*p[j] + sum_{i<n} (sel[i] ? a[i] : b[i]), CT in the
 * selector bytes (each 0 or 1) and in the scalars k[j] (the zk_msm_const
 * algorithm), not in the points a, b, p (public; a and b must be finite).
 * A Bulletproofs bit commitment A = alpha*H + sum (bit ? G_i : -H_i) is one
 * call with m = 1. p64 and k32 may be NULL when m = 0.
 * Checked in the order: all a, all b, all sel, then (p[j], k[j]) per j.
 * Bad index: i for a[i], n + i for b[i], 2n + i for sel[i] > 1 (ZK_ERR_SCALAR),
 * 3n + j for p[j], 3n + m + j for k[j]. */
int zk_select_sum(unsigned char *out64, const unsigned char *a64, const unsigned char *b64, const unsigned char *sel, size_t n,
                  const unsigned char *p64, const unsigned char *k32, size_t m, size_t *bad);

/* BIP340 signatures: sig64[i] = Sign(seckey32[i], msg32[i]) with auxiliary randomness aux32[i]
 * (libsecp256k1's schnorrsig module): CT in seckey32 and aux32 (and so in the nonce); the
 * messages and signatures are public. Rejects a secret key that is 0 or >= n (ZK_ERR_SCALAR at
 * its index). */
int zk_schnorr_sign(unsigned char *sig64, const unsigned char *msg32, const unsigned char *seckey32,
                    const unsigned char *aux32, size_t n, size_t *bad);

/* out[i] = in[i]^-1 mod n (variable time: public scalars only). Rejects in[i] >= n and 0. */
int zk_scalar_invert(unsigned char *out32, const unsigned char *in32, size_t n, size_t *bad);

/* Scalar-vector accumulation mod n, for verifiers' per-generator coefficients:
 *   acc[offset + stride*i] += c + w * prod_{j<k} pairs[j][bit (k-1-j) of i]   for i < 2^k,
 * where pairs holds k (first, second) scalar pairs: a tensor product of k
 * two-element vectors (round j of an inner-product argument owns bit k-1-j).
 * acc holds acc_len 32-byte scalars; c (may be NULL) and w are 32-byte scalars.
 * Variable time (public scalars only). Returns ZK_ERR_INTERNAL unless k <= 30,
 * stride >= 1 and offset + stride*(2^k - 1) < acc_len (checked without overflow).
 * Bad index: the first non-canonical scalar, counted over [acc entries | pairs | w | c]. */
int zk_scalar_tensor_acc(unsigned char *acc32, size_t acc_len, size_t offset, size_t stride, size_t k,
                         const unsigned char *pairs32, const unsigned char *w32, const unsigned char *c32, size_t *bad);

/* x-coordinates of start + i*step for i = 0..n-1, 32 bytes each (infinity gives
 * 32 zero bytes; no curve point has x = 0). Variable time: public points only.
 * Baby-step giant-step decryption builds its table and walks its giant steps
 * with this (on a decrypted total that is about to be published). Bad index:
 * 0 for start, 1 for step. */
int zk_progression_x(unsigned char *out32, const unsigned char *start64, const unsigned char *step64, size_t n, size_t *bad);

/* A fixed point set (generators) parsed once and reused across MSMs. Variable time: public points only. */
zk_table *zk_table_create(const unsigned char *p64, size_t n, int *status, size_t *bad);
size_t zk_table_size(const zk_table *t);
size_t zk_table_bytes(const zk_table *t);
void zk_table_destroy(zk_table *t);

/* out = sum_{i<nt} tk[i]*T[i] + sum_{j<n} k[j]*P[j] + g*G, variable time: public scalars only.
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
