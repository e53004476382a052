/*
 * Constant-time check of zkmeter's native prover paths, run under valgrind memcheck.
 *
 * Method (the idea behind libsecp256k1's ctime test; this harness is written for zkmeter's own
 * kernel API): memcheck tracks which bytes are defined and reports a conditional jump, or a
 * memory access, whose condition or address depends on undefined bytes. We mark every secret
 * input undefined (VALGRIND_MAKE_MEM_UNDEFINED) before a kernel call and mark the outputs that
 * the protocol publishes defined afterwards (VALGRIND_MAKE_MEM_DEFINED). Arithmetic on undefined
 * bytes is silent, so any report means that a branch or a memory index depended on a secret:
 * the timing and cache channels constant-time code must not have. (Instruction-level timing,
 * e.g. of multiplications, is not what this checks.)
 *
 * The kernel is compiled exactly as the addon compiles it (native/ctime/build.mjs reads
 * binding.gyp) plus -DVALGRIND, which turns on ZK_DECLASSIFY in kernel.c and libsecp256k1's own
 * declassification (SECP256K1_CONTEXT_DECLASSIFY), both of which mark as public only the
 * validity bits that an error return reveals anyway.
 *
 * Usage: valgrind --error-exitcode=1 --track-origins=yes ctime_test [MODE]
 *   (no MODE)   every prover path below, over edge-case and random secrets: 0 errors expected.
 *   defined     the same paths with no secret marked, checking that every output is defined
 *               (no uninitialised bytes that declassifying would hide): 0 errors expected.
 *   leak-mul    the variable-time zk_mul (wNAF) on a secret scalar: memcheck must report it.
 *   leak-add    the variable-time zk_add on a secret-dependent point: memcheck must report it.
 *   leak-msm    the variable-time zk_msm on a secret scalar: memcheck must report it.
 * The leak modes prove that the check can fail; test/native-ctime.test.ts runs all four.
 * Outside valgrind the harness refuses to run (exit 2), so a pass always means "checked".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "../kernel.h"

/* In the "defined" mode nothing is marked secret and every output that would be declassified is
 * instead checked to be fully defined: that mode finds outputs holding genuinely uninitialised
 * bytes, which declassifying them in the other modes would hide. */
static int marking = 1;
#define SECRET(p, len) ((void)(marking ? VALGRIND_MAKE_MEM_UNDEFINED((p), (len)) : 0))
#define PUBLIC(p, len) ((void)(marking ? VALGRIND_MAKE_MEM_DEFINED((p), (len)) : VALGRIND_CHECK_MEM_IS_DEFINED((p), (len))))

/* Range proof shape: a 16-bit two-sided proof of one reading has m = 2 sub-values, N = 32. */
enum { BITS = 16, SUBS = 2, NV = BITS * SUBS };

static unsigned long calls = 0;

static void fail(const char *what, int status) {
    fprintf(stderr, "ctime_test: %s returned status %d\n", what, status);
    exit(3);
}

/* Every status is checked; it must itself be public (kernel.c declassifies validity bits). */
static void ok(int status, const char *what) {
    calls++;
    if (status != ZK_OK) fail(what, status);
}

static void hex32(unsigned char *out, const char *hex) {
    int i;
    for (i = 0; i < 32; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
            fprintf(stderr, "ctime_test: bad constant %s\n", hex);
            exit(3);
        }
        out[i] = (unsigned char)b;
    }
}

/* Scalars of special form: 0, 1, small, -1, -2, halves of n, powers of two around the 128-bit
 * split, and lambda-related values whose GLV halves are 0 or +-1. */
static const char *const SPECIAL[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000001",
    "0000000000000000000000000000000000000000000000000000000000000002",
    "0000000000000000000000000000000000000000000000000000000000000003",
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", /* n - 1 */
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413f", /* n - 2 */
    "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", /* (n - 1) / 2 */
    "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1", /* (n + 1) / 2 */
    "0000000000000000000000000000000080000000000000000000000000000000", /* 2^127 */
    "00000000000000000000000000000000ffffffffffffffffffffffffffffffff", /* 2^128 - 1 */
    "0000000000000000000000000000000100000000000000000000000000000000", /* 2^128 */
    "8000000000000000000000000000000000000000000000000000000000000000", /* 2^255 */
    "5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72", /* lambda */
    "ac9c52b33fa3cf1f5ad9e3fd77ed9ba4a880b9fc8ec739c2e0cfc810b51283cf", /* n - lambda */
    "ac9c52b33fa3cf1f5ad9e3fd77ed9ba4a880b9fc8ec739c2e0cfc810b51283ce", /* lambda^2 */
};
enum { NSPECIAL = sizeof(SPECIAL) / sizeof(SPECIAL[0]) };

/* A fixed xorshift64* stream: reproducible "random" scalars (< 2^255 < n, so canonical). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static void random_scalar(unsigned char *out) {
    int i;
    for (i = 0; i < 32; i++) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        out[i] = (unsigned char)((rng_state * 0x2545f4914f6cdd1dULL) >> 56);
    }
    out[0] &= 0x7f;
}

/* Public points, built once: G, H (Pedersen), Y (a public key), the vector generators G_i and
 * -H_i, and the prover's concatenations of them. */
static unsigned char G[64], H[64], Y[64], GH[128], GY[128];
static unsigned char Gi[64 * NV], Hi[64 * NV], negHi[64 * NV], S_points[64 * (1 + 2 * NV)];

/* k*G for a public k: the context's blinding is secret (seeded from a secret), so the output
 * is undefined to memcheck though its value is public: declassify it. */
static void public_point(unsigned char *out, uint32_t k) {
    unsigned char s[32] = {0};
    s[28] = (unsigned char)(k >> 24);
    s[29] = (unsigned char)(k >> 16);
    s[30] = (unsigned char)(k >> 8);
    s[31] = (unsigned char)k;
    size_t bad;
    ok(zk_mul_gen(out, s, 1, &bad), "zk_mul_gen (public)");
    PUBLIC(out, 64);
}

static void setup(void) {
    unsigned char seed[32];
    size_t bad, i;
    int j;
    for (j = 0; j < 32; j++) seed[j] = (unsigned char)(0xa5 ^ j);
    /* The ecmult_gen blinding seed is a secret: the whole run then uses a secret blinding. */
    SECRET(seed, sizeof(seed));
    ok(zk_init(seed), "zk_init");
    public_point(G, 1);
    public_point(H, 0x48484848u);
    public_point(Y, 0x59595959u);
    for (i = 0; i < NV; i++) {
        public_point(Gi + 64 * i, 0x1000u + (uint32_t)i);
        public_point(Hi + 64 * i, 0x2000u + (uint32_t)i);
    }
    ok(zk_negate(negHi, Hi, NV, &bad), "zk_negate");
    memcpy(GH, G, 64);
    memcpy(GH + 64, H, 64);
    memcpy(GY, G, 64);
    memcpy(GY + 64, Y, 64);
    memcpy(S_points, H, 64);
    memcpy(S_points + 64, Gi, 64 * NV);
    memcpy(S_points + 64 * (1 + NV), Hi, 64 * NV);
}

/* One round's secrets. `pick(i)` gives the i-th secret scalar of the round (see run_round). */
typedef struct {
    unsigned char special[32];
    int recipe; /* 0: every secret = special; 1: first of each call special, rest random; 2: last */
    int selectors; /* 0: all 0, 1: all 1, 2: alternating, 3: random */
} round_t;

static void pick(unsigned char *out, const round_t *rd, int position, int count) {
    int use_special = rd->recipe == 0 || (rd->recipe == 1 && position == 0) || (rd->recipe == 2 && position == count - 1);
    if (use_special) memcpy(out, rd->special, 32);
    else random_scalar(out);
    SECRET(out, 32);
}

/* mul (constant time): x*P, x*Q as in the DLEQ prover (P = G, Q = C1), the threshold decryption
 * share x_i*C1 and decryption's x*C1. The points are public. */
static void path_mul(const round_t *rd) {
    unsigned char k[64], out[128], pts[128];
    size_t bad;
    memcpy(pts, G, 64);
    memcpy(pts + 64, Y, 64);
    pick(k, rd, 0, 2);
    pick(k + 32, rd, 1, 2);
    ok(zk_mul(out, pts, k, 2, 1, &bad), "zk_mul (constant time)");
    PUBLIC(out, sizeof(out));
}

/* mulGen: public keys, C1 = r*G, the ZKPe's A1 = k_r*G, the BIP340 key's x-only public key. */
static void path_mul_gen(const round_t *rd) {
    unsigned char k[64], out[128];
    size_t bad;
    pick(k, rd, 0, 2);
    pick(k + 32, rd, 1, 2);
    ok(zk_mul_gen(out, k, 2, &bad), "zk_mul_gen");
    PUBLIC(out, sizeof(out));
}

/* commit(m, s) = msmConst([G, H], [m, s]). */
static void path_commit(const round_t *rd, unsigned char *V) {
    unsigned char k[64];
    size_t bad;
    pick(k, rd, 0, 2);
    pick(k + 32, rd, 1, 2);
    ok(zk_msm_const(V, GH, k, 2, &bad), "commit: zk_msm_const");
    PUBLIC(V, 64);
}

/* encryptWithRandomness(Y, m, r): C1 = mulGen(r), C2 = msmConst([G, Y], [m, r]). */
static void path_encrypt(const round_t *rd) {
    unsigned char m[32], r[32], k[64], c1[64], c2[64];
    size_t bad;
    pick(m, rd, 0, 2);
    pick(r, rd, 1, 2);
    ok(zk_mul_gen(c1, r, 1, &bad), "encrypt: C1 = zk_mul_gen");
    memcpy(k, m, 32);
    memcpy(k + 32, r, 32);
    ok(zk_msm_const(c2, GY, k, 2, &bad), "encrypt: C2 = zk_msm_const");
    PUBLIC(c1, 64);
    PUBLIC(c2, 64);
}

/* The ZKPe prover's commitments (v2): A1 = mulGen(k_r), A2 = msmConst([G, Y], [k_m, k_r]),
 * A3 = msmConst([G, H], [k_m, k_s]). */
static void path_zkpe(const round_t *rd) {
    unsigned char km[32], kr[32], ks[32], k[64], a1[64], a2[64], a3[64];
    size_t bad;
    pick(km, rd, 0, 3);
    pick(kr, rd, 1, 3);
    pick(ks, rd, 2, 3);
    ok(zk_mul_gen(a1, kr, 1, &bad), "zkpe: A1 = zk_mul_gen");
    memcpy(k, km, 32);
    memcpy(k + 32, kr, 32);
    ok(zk_msm_const(a2, GY, k, 2, &bad), "zkpe: A2 = zk_msm_const");
    memcpy(k + 32, ks, 32);
    ok(zk_msm_const(a3, GH, k, 2, &bad), "zkpe: A3 = zk_msm_const");
    PUBLIC(a1, 64);
    PUBLIC(a2, 64);
    PUBLIC(a3, 64);
}

static void selectors(unsigned char *sel, const round_t *rd) {
    int i;
    for (i = 0; i < NV; i++) {
        unsigned char r[32];
        switch (rd->selectors) {
        case 0: sel[i] = 0; break;
        case 1: sel[i] = 1; break;
        case 2: sel[i] = (unsigned char)(i & 1); break;
        default: random_scalar(r); sel[i] = r[5] & 1; break;
        }
    }
    SECRET(sel, NV);
}

/* The range prover's kernel calls, in order: the witness check (public weights, secret weighted
 * sums), A = selectSum(G_i, -H_i, bits, [H], [alpha]), S = msmConst([H, G_i, H_i], [rho, sL, sR]),
 * T1, T2 = msmConst([G, H], [t_i, tau_i]). What follows (challenges, the inner-product rounds)
 * works on l(x), r(x), which the protocol could send in the clear (they are blinded by sL, sR),
 * so it is public and variable time by design (docs/notes-rangeproof.md). */
static void path_range(const round_t *rd) {
    unsigned char V[128], w[64], weighted[64], wk[64], check[64];
    unsigned char sel[NV], alpha[32], A[64], sk[32 * (1 + 2 * NV)], S[64], tk[64], T1[64], T2[64];
    size_t bad, i;
    /* Two commitments (public once made) and public 127-bit weights. */
    path_commit(rd, V);
    path_commit(rd, V + 64);
    random_scalar(w);
    random_scalar(w + 32);
    w[0] = 0;
    w[32] = 0;
    ok(zk_msm(weighted, NULL, NULL, 0, V, 64, w, 2, NULL, &bad), "range: weighted commitments (public)");
    pick(wk, rd, 0, 2);
    pick(wk + 32, rd, 1, 2);
    ok(zk_msm_const(check, GH, wk, 2, &bad), "range: witness check zk_msm_const");
    PUBLIC(check, 64);
    (void)memcmp(weighted, check, 64); /* both public: the comparison may branch */

    selectors(sel, rd);
    pick(alpha, rd, 0, 1);
    ok(zk_select_sum(A, Gi, negHi, sel, NV, H, alpha, 1, &bad), "range: A = zk_select_sum");
    PUBLIC(A, 64);
    /* The plain selection (no extra term) too. */
    ok(zk_select_sum(A, Gi, negHi, sel, NV, NULL, NULL, 0, &bad), "range: zk_select_sum without extra terms");
    PUBLIC(A, 64);

    for (i = 0; i < 1 + 2 * NV; i++) pick(sk + 32 * i, rd, (int)i, (int)(1 + 2 * NV));
    ok(zk_msm_const(S, S_points, sk, 1 + 2 * NV, &bad), "range: S = zk_msm_const");
    PUBLIC(S, 64);

    pick(tk, rd, 0, 2);
    pick(tk + 32, rd, 1, 2);
    ok(zk_msm_const(T1, GH, tk, 2, &bad), "range: T1 = zk_msm_const");
    pick(tk, rd, 1, 2);
    pick(tk + 32, rd, 0, 2);
    ok(zk_msm_const(T2, GH, tk, 2, &bad), "range: T2 = zk_msm_const");
    PUBLIC(T1, 64);
    PUBLIC(T2, 64);
}

/* BIP340 signing: the key and aux_rand are secret, the message and the signature public. */
static void path_schnorr(const round_t *rd) {
    unsigned char msg[64], key[64], aux[64], sig[128];
    size_t bad;
    int i;
    for (i = 0; i < 64; i++) msg[i] = (unsigned char)(3 * i + 1);
    pick(key, rd, 0, 2);
    pick(key + 32, rd, 1, 2);
    /* A key must be 0 < d < n: replace 0 by 1 (the zero test is on public copies here). */
    for (i = 0; i < 2; i++) {
        unsigned char probe[32];
        int j, zero = 1;
        memcpy(probe, key + 32 * i, 32);
        PUBLIC(probe, 32);
        for (j = 0; j < 32; j++) zero &= probe[j] == 0;
        if (zero) {
            key[32 * i + 31] = 1;
            SECRET(key + 32 * i, 32);
        }
    }
    random_scalar(aux);
    random_scalar(aux + 32);
    SECRET(aux, sizeof(aux));
    ok(zk_schnorr_sign(sig, msg, key, aux, 2, &bad), "zk_schnorr_sign");
    PUBLIC(sig, sizeof(sig));
}

static int run_checks(void) {
    int s, recipe, rounds = 0;
    for (s = 0; s < NSPECIAL + 4; s++) {
        for (recipe = 0; recipe < 3; recipe++) {
            round_t rd;
            unsigned char V[64];
            if (s < NSPECIAL) hex32(rd.special, SPECIAL[s]);
            else random_scalar(rd.special);
            rd.recipe = recipe;
            rd.selectors = (s + recipe) % 4;
            path_mul(&rd);
            path_mul_gen(&rd);
            path_commit(&rd, V);
            path_encrypt(&rd);
            path_zkpe(&rd);
            path_range(&rd);
            path_schnorr(&rd);
            rounds++;
        }
    }
    printf("ctime_test: %d rounds, %lu kernel calls, %s\n", rounds, calls,
           marking ? "secret inputs marked undefined" : "every output checked to be defined");
    return 0;
}

/* The deliberate failures: variable-time kernels on secrets. Each must be reported by memcheck
 * (the test expects valgrind's error exit code), which shows the check can fail. */
static int run_leak(const char *mode) {
    unsigned char k[32], P[64], out[64];
    size_t bad;
    hex32(k, "00000000000000000000000000000000000000000000000000000000deadbeef");
    SECRET(k, 32);
    if (strcmp(mode, "leak-mul") == 0) {
        /* wNAF recoding and table indexing by the scalar's digits. */
        ok(zk_mul(out, G, k, 1, 0, &bad), "zk_mul (variable time)");
    } else if (strcmp(mode, "leak-add") == 0) {
        /* A secret-dependent point (not declassified) into the variable-time addition. */
        ok(zk_mul_gen(P, k, 1, &bad), "zk_mul_gen");
        ok(zk_add(out, P, H, 1, &bad), "zk_add (variable time)");
    } else if (strcmp(mode, "leak-msm") == 0) {
        ok(zk_msm(out, NULL, NULL, 0, G, 64, k, 1, NULL, &bad), "zk_msm (variable time)");
    } else {
        fprintf(stderr, "ctime_test: unknown mode %s\n", mode);
        return 2;
    }
    PUBLIC(out, 64);
    printf("ctime_test: ran %s (memcheck must have reported it)\n", mode);
    return 0;
}

int main(int argc, char **argv) {
    if (!RUNNING_ON_VALGRIND) {
        fprintf(stderr, "ctime_test: run me under valgrind (valgrind --error-exitcode=1 --track-origins=yes %s)\n", argv[0]);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "defined") == 0) marking = 0;
    setup();
    return argc > 1 && marking ? run_leak(argv[1]) : run_checks();
}
