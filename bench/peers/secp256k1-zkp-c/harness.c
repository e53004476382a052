/*
 * zkmeter's timing harness for the C Bulletproofs of secp256k1-zkp (the Grin /
 * mimblewimble fork, as shipped in the npm package secp256k1-zkp@1.0.2).
 *
 * Written for zkmeter; it only calls the library's public API
 * (include/secp256k1_bulletproofs.h, secp256k1_commitment.h, secp256k1_generator.h).
 * The library is compiled into this file as one translation unit: the include path
 * must hold the package's `src/secp256k1-zkp` directory and its `src` folder, which
 * bench/peers/secp256k1-zkp-c.ts fetches (npm pack, integrity-checked) and passes as
 * -I flags. No third-party source lives in the repository.
 *
 * Usage: harness [--quick] [--headline N]
 *   --headline N: only the 64-bit single-value proof (prove, verify, size) and a batch of N,
 *   for the head-to-head rounds that alternate with zkmeter (bench/headtohead.ts).
 * Prints one JSON object per line on stdout:
 *   {"config": "...", ...}                                      first line
 *   {"op":"rangeProve","bits":64,"m":1,"ms":...}
 *   {"op":"rangeVerify","bits":64,"m":1,"ms":...}
 *   {"op":"rangeProofSize","bits":64,"m":1,"bytes":675}
 *   {"op":"rangeBatchVerify","bits":64,"m":1,"batch":64,"ms":...}   (ms per proof)
 * Exits non-zero if any proof fails to be created or verified, or if a corrupted
 * proof is accepted.
 */
#define _POSIX_C_SOURCE 200809L

/* ---- Library configuration --------------------------------------------------------
 * What the package's binding.gyp and configure.ac select, in the fastest variant this
 * old version offers: no GMP (builtin inverses), endomorphism on, and on x86-64 the
 * 5x52 field with the hand-written x86-64 assembly (configure's --with-asm=auto
 * default there; zkmeter's own addon enables the same asm), 4x64 scalars, __int128.
 * Compile with -DZKM_NO_ASM to use the portable __int128 C field code instead. */
#define USE_NUM_NONE 1
#define USE_FIELD_INV_BUILTIN 1
#define USE_SCALAR_INV_BUILTIN 1
#define USE_ENDOMORPHISM 1
#if defined(__SIZEOF_INT128__)
# define HAVE___INT128 1
# define USE_FIELD_5X52 1
# define USE_SCALAR_4X64 1
# if defined(__x86_64__) && !defined(ZKM_NO_ASM)
#  define USE_ASM_X86_64 1
# endif
#else
# define USE_FIELD_10X26 1
# define USE_SCALAR_8X32 1
#endif
#if defined(__GNUC__)
/* configure.ac's compiler probes */
# define HAVE_BUILTIN_EXPECT 1
# define HAVE_BUILTIN_POPCOUNT 1
# define HAVE_BUILTIN_POPCOUNTL 1
# define HAVE_BUILTIN_CTZL 1
# define HAVE_BUILTIN_CLZLL 1
#endif
#define ENABLE_MODULE_GENERATOR 1
#define ENABLE_MODULE_COMMITMENT 1
#define ENABLE_MODULE_RANGEPROOF 1 /* secp256k1_bulletproofs.h includes its header */
#define ENABLE_MODULE_BULLETPROOF 1

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secp256k1.c"

#ifndef ZKM_CFLAGS
# define ZKM_CFLAGS "unknown"
#endif

/* ---- Small utilities ------------------------------------------------------------- */

static void die(const char *what) {
    fprintf(stderr, "harness: %s\n", what);
    fflush(stdout);
    exit(2);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_SAMPLES 1000

/* One warm-up call, then repetitions until both `min_reps` samples and `budget_ms` of
 * wall time are reached (at most MAX_SAMPLES); returns the median sample in ms. */
static double measure(void (*fn)(void *), void *arg, double budget_ms, int min_reps) {
    static double samples[MAX_SAMPLES];
    int n = 0;
    double start;
    fn(arg);
    start = now_ms();
    while (n < MAX_SAMPLES && (n < min_reps || now_ms() - start < budget_ms)) {
        double t0 = now_ms();
        fn(arg);
        samples[n++] = now_ms() - t0;
    }
    qsort(samples, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/* splitmix64: deterministic inputs, so that runs are comparable. */
static uint64_t rng_state = 0x7a6b6d6574657221ULL;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static void rng_bytes(unsigned char *out, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) out[i] = (unsigned char)(rng_next() >> 56);
}
/* A nonzero scalar below the group order: top bit cleared, low byte forced odd. */
static void rng_scalar(unsigned char out[32]) {
    rng_bytes(out, 32);
    out[0] &= 0x7f;
    out[31] |= 1;
}

/* ---- The measured statement: m values of nbits bits each, one proof --------------- */

static secp256k1_context *ctx;
static secp256k1_scratch_space *scratch;
static secp256k1_bulletproof_generators *gens;
/* Pedersen commitments are value·H + blind·G (Grin's convention): H is the value
 * generator, G the blinding generator handed to secp256k1_bulletproof_generators_create. */
static const secp256k1_generator *value_gen = &secp256k1_generator_const_h;

typedef struct {
    size_t nbits, m;
    uint64_t *values;
    unsigned char (*blinds)[32];
    const unsigned char **blind_ptrs;
    secp256k1_pedersen_commitment *commits;
    unsigned char nonce[32];
    unsigned char proof[SECP256K1_BULLETPROOF_MAX_PROOF];
    size_t plen;
} statement;

static void statement_init(statement *s, size_t nbits, size_t m) {
    size_t i;
    s->nbits = nbits;
    s->m = m;
    s->values = (uint64_t *)malloc(m * sizeof(*s->values));
    s->blinds = (unsigned char (*)[32])malloc(m * 32);
    s->blind_ptrs = (const unsigned char **)malloc(m * sizeof(*s->blind_ptrs));
    s->commits = (secp256k1_pedersen_commitment *)malloc(m * sizeof(*s->commits));
    if (!s->values || !s->blinds || !s->blind_ptrs || !s->commits) die("out of memory");
    for (i = 0; i < m; i++) {
        s->values[i] = nbits == 64 ? rng_next() : rng_next() & ((1ULL << nbits) - 1);
        rng_scalar(s->blinds[i]);
        s->blind_ptrs[i] = s->blinds[i];
        if (!secp256k1_pedersen_commit(ctx, &s->commits[i], s->blinds[i], s->values[i], value_gen, &secp256k1_generator_const_g)) {
            die("secp256k1_pedersen_commit failed");
        }
    }
    rng_bytes(s->nonce, 32);
    s->plen = 0;
}

static void statement_free(statement *s) {
    free(s->values);
    free(s->blinds);
    free(s->blind_ptrs);
    free(s->commits);
}

static void do_prove(void *arg) {
    statement *s = (statement *)arg;
    s->plen = sizeof(s->proof);
    if (!secp256k1_bulletproof_rangeproof_prove(ctx, scratch, gens, s->proof, &s->plen, NULL, NULL, NULL,
            s->values, NULL, s->blind_ptrs, NULL, s->m, value_gen, s->nbits, s->nonce, NULL, NULL, 0, NULL)) {
        die("secp256k1_bulletproof_rangeproof_prove failed");
    }
}

static int verify_one(const statement *s, const unsigned char *proof) {
    return secp256k1_bulletproof_rangeproof_verify(ctx, scratch, gens, proof, s->plen, NULL, s->commits, s->m,
        s->nbits, value_gen, NULL, 0);
}

static void do_verify(void *arg) {
    statement *s = (statement *)arg;
    if (verify_one(s, s->proof) != 1) die("secp256k1_bulletproof_rangeproof_verify rejected an honest proof");
}

/* ---- Batch verification of 64-bit single-value proofs --------------------------- */

typedef struct {
    size_t n;
    const unsigned char **proofs;
    const secp256k1_pedersen_commitment **commits;
    secp256k1_generator *value_gens;
    size_t plen;
} batch;

static int verify_batch(const batch *b, size_t n) {
    return secp256k1_bulletproof_rangeproof_verify_multi(ctx, scratch, gens, b->proofs, n, b->plen, NULL,
        b->commits, 1, 64, b->value_gens, NULL, NULL);
}

static void do_verify_batch(void *arg) {
    batch *b = (batch *)arg;
    if (verify_batch(b, b->n) != 1) die("secp256k1_bulletproof_rangeproof_verify_multi rejected honest proofs");
}

int main(int argc, char **argv) {
    static const size_t bits_full[] = {8, 16, 32, 64}, bits_quick[] = {8, 64};
    static const size_t aggs_full[] = {1, 2, 4, 8, 16, 32, 64}, aggs_quick[] = {1, 4};
    static const size_t batches_full[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000}, batches_quick[] = {1, 16, 64};
    const size_t *bits_list, *agg_list, *batch_list;
    size_t n_bits, n_aggs, n_batches, max_m, max_batch, distinct, n_gens, i, j;
    size_t scratch_bytes = (size_t)256 << 20;
    double budget, setup_ms, t0;
    static const size_t bits_headline[] = {64}, aggs_headline[] = {1};
    static size_t batches_headline[1];
    int quick = 0, headline = 0, min_reps;
    statement s;
    batch b;
    statement *pool;

    for (i = 1; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--headline") == 0 && i + 1 < (size_t)argc && atoi(argv[i + 1]) > 0) {
            headline = 1;
            batches_headline[0] = (size_t)atoi(argv[++i]);
        } else { fprintf(stderr, "usage: %s [--quick] [--headline N]\n", argv[0]); return 64; }
    }
    bits_list = headline ? bits_headline : quick ? bits_quick : bits_full;
    n_bits = headline ? 1 : quick ? sizeof(bits_quick) / sizeof(*bits_quick) : sizeof(bits_full) / sizeof(*bits_full);
    agg_list = headline ? aggs_headline : quick ? aggs_quick : aggs_full;
    n_aggs = headline ? 1 : quick ? sizeof(aggs_quick) / sizeof(*aggs_quick) : sizeof(aggs_full) / sizeof(*aggs_full);
    batch_list = headline ? batches_headline : quick ? batches_quick : batches_full;
    n_batches = headline ? 1 : quick ? sizeof(batches_quick) / sizeof(*batches_quick) : sizeof(batches_full) / sizeof(*batches_full);
    max_m = agg_list[n_aggs - 1];
    max_batch = batch_list[n_batches - 1];
    /* As many distinct proofs as zkmeter's own batch benchmark; batches cycle through them. */
    distinct = quick ? 8 : 32;
    budget = quick ? 20 : 300;
    min_reps = quick ? 1 : 3;
    /* 2·nbits·m generators: G_i and H_i vectors for the largest aggregate. */
    n_gens = 2 * 64 * max_m;

    t0 = now_ms();
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    /* This version's scratch space is a cap, not a preallocation: every frame is
     * malloc'd at its exact size, and ecmult_multi splits its MSM into batches only
     * when the cap is too small for the single Pippenger call. 256 MiB is far above
     * what a 1000-proof batch (about 17k points) needs. */
    scratch = secp256k1_scratch_space_create(ctx, scratch_bytes);
    gens = secp256k1_bulletproof_generators_create(ctx, &secp256k1_generator_const_g, n_gens);
    if (!ctx || !scratch || !gens) die("setup failed");
    setup_ms = now_ms() - t0;

    printf("{\"config\":\"secp256k1-zkp 1.0.2 (Grin fork), one translation unit; "
#if defined(USE_FIELD_5X52)
           "USE_FIELD_5X52 "
#endif
#if defined(USE_ASM_X86_64)
           "USE_ASM_X86_64 "
#endif
#if defined(USE_FIELD_10X26)
           "USE_FIELD_10X26 "
#endif
#if defined(USE_SCALAR_4X64)
           "USE_SCALAR_4X64 "
#endif
#if defined(USE_SCALAR_8X32)
           "USE_SCALAR_8X32 "
#endif
#if defined(HAVE___INT128)
           "HAVE___INT128 "
#endif
           "USE_ENDOMORPHISM USE_NUM_NONE USE_FIELD_INV_BUILTIN USE_SCALAR_INV_BUILTIN "
           "ENABLE_MODULE_{GENERATOR,COMMITMENT,RANGEPROOF,BULLETPROOF}; "
           "ecmult WINDOW_G=15 (fixed with endomorphism), ecmult_gen table built at runtime; "
           "cflags: %s\",\"compiler\":\"%s\",\"scratchBytes\":%lu,\"generators\":%lu,"
           "\"distinctBatchProofs\":%lu,\"setupMs\":%.1f,\"quick\":%s}\n",
           ZKM_CFLAGS,
#if defined(__VERSION__)
           __VERSION__,
#else
           "unknown",
#endif
           (unsigned long)scratch_bytes, (unsigned long)n_gens, (unsigned long)distinct, setup_ms,
           quick ? "true" : "false");
    fflush(stdout);

    /* Single-value proofs over the bit widths. */
    for (i = 0; i < n_bits; i++) {
        size_t nbits = bits_list[i];
        statement_init(&s, nbits, 1);
        {
            double prove = measure(do_prove, &s, budget, min_reps);
            double verify = measure(do_verify, &s, budget, quick ? 3 : 10);
            printf("{\"op\":\"rangeProve\",\"bits\":%lu,\"m\":1,\"ms\":%.6g}\n", (unsigned long)nbits, prove);
            printf("{\"op\":\"rangeVerify\",\"bits\":%lu,\"m\":1,\"ms\":%.6g}\n", (unsigned long)nbits, verify);
            printf("{\"op\":\"rangeProofSize\",\"bits\":%lu,\"m\":1,\"bytes\":%lu}\n", (unsigned long)nbits, (unsigned long)s.plen);
            fflush(stdout);
        }
        /* The verifier must notice a corrupted proof: one flipped bit in tau_x (the proof's
         * first scalar), or in its last byte (inside the inner-product argument). */
        if (nbits == 64) {
            unsigned char bad[SECP256K1_BULLETPROOF_MAX_PROOF];
            memcpy(bad, s.proof, s.plen);
            bad[31] ^= 1;
            if (verify_one(&s, bad) != 0) die("a proof with a corrupted tau_x was accepted");
            memcpy(bad, s.proof, s.plen);
            bad[s.plen - 1] ^= 1;
            if (verify_one(&s, bad) != 0) die("a proof with a corrupted inner-product argument was accepted");
        }
        statement_free(&s);
    }

    /* Aggregated 64-bit proofs (m values in one proof). m = 1 is the row above. */
    for (i = 0; i < n_aggs; i++) {
        size_t m = agg_list[i];
        if (m == 1) continue;
        statement_init(&s, 64, m);
        {
            double prove = measure(do_prove, &s, budget, min_reps);
            double verify = measure(do_verify, &s, budget, min_reps);
            printf("{\"op\":\"rangeProve\",\"bits\":64,\"m\":%lu,\"ms\":%.6g}\n", (unsigned long)m, prove);
            printf("{\"op\":\"rangeVerify\",\"bits\":64,\"m\":%lu,\"ms\":%.6g}\n", (unsigned long)m, verify);
            printf("{\"op\":\"rangeProofSize\",\"bits\":64,\"m\":%lu,\"bytes\":%lu}\n", (unsigned long)m, (unsigned long)s.plen);
            fflush(stdout);
        }
        statement_free(&s);
    }

    /* Batch verification: `distinct` honest 64-bit proofs, cycled to fill each batch. */
    pool = (statement *)malloc(distinct * sizeof(*pool));
    b.proofs = (const unsigned char **)malloc(max_batch * sizeof(*b.proofs));
    b.commits = (const secp256k1_pedersen_commitment **)malloc(max_batch * sizeof(*b.commits));
    b.value_gens = (secp256k1_generator *)malloc(max_batch * sizeof(*b.value_gens));
    if (!pool || !b.proofs || !b.commits || !b.value_gens) die("out of memory");
    for (j = 0; j < distinct; j++) {
        statement_init(&pool[j], 64, 1);
        do_prove(&pool[j]);
        if (pool[j].plen != pool[0].plen) die("64-bit proofs of different lengths");
    }
    for (j = 0; j < max_batch; j++) {
        b.proofs[j] = pool[j % distinct].proof;
        b.commits[j] = pool[j % distinct].commits;
        b.value_gens[j] = *value_gen;
    }
    b.plen = pool[0].plen;
    /* A batch holding one proof paired with another proof's commitment must fail. */
    if (distinct >= 2) {
        const secp256k1_pedersen_commitment *keep = b.commits[1];
        b.commits[1] = pool[0].commits;
        if (verify_batch(&b, distinct) != 0) die("a batch with a mismatched commitment was accepted");
        b.commits[1] = keep;
    }
    for (i = 0; i < n_batches; i++) {
        double ms;
        b.n = batch_list[i];
        ms = measure(do_verify_batch, &b, budget, b.n >= 256 ? (quick ? 1 : 3) : min_reps);
        printf("{\"op\":\"rangeBatchVerify\",\"bits\":64,\"m\":1,\"batch\":%lu,\"ms\":%.6g}\n", (unsigned long)b.n, ms / (double)b.n);
        fflush(stdout);
    }
    for (j = 0; j < distinct; j++) statement_free(&pool[j]);
    free(pool);
    free(b.proofs);
    free(b.commits);
    free(b.value_gens);

    secp256k1_bulletproof_generators_destroy(ctx, gens);
    secp256k1_scratch_space_destroy(scratch);
    secp256k1_context_destroy(ctx);
    return 0;
}
