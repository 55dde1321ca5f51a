/* The zlib layer of a record frame (RFC 1950 around RFC 1951) decoded for _frames.c: about 1.5x
 * zlib's inflate on the short, literal-heavy streams of a journal (token-LZW output compresses to
 * almost nothing but literals, so the cost is one table look-up per byte and a table build per
 * block: zlib's tables are rebuilt for every frame's block, ours take one pass and decode up to
 * three literals per refill of a 64-bit bit buffer).
 *
 * Deliberately partial: infl_zlib either gives exactly the bytes zlib gives (INFL_OK), or gives up
 * (INFL_DEFER) and the caller asks zlib, whose verdict stands.  It gives up on everything zlib
 * might refuse or that it does not handle itself: a bad header, preset dictionary, over-subscribed
 * or incomplete codes (except those zlib accepts: one code of one bit, or none, for literal/length
 * and distance codes), more than 286 literal/length or 30 distance codes, a bad repeat, no
 * end-of-block code, symbols 286/287 and distances 30/31 of the fixed code, a distance before the
 * start, stored-block lengths that disagree, block type 3, output past `cap`, input that ends
 * early, anything but the 4-byte Adler-32 after the stream, and a failing Adler-32.  So a stream
 * it accepts is one zlib accepts, with the same bytes; the differential tests in
 * tests/mem8/test_mem8codec_inflate.py check that against zlib.
 */
#ifndef MEMSCHEMA_INFLATE_CORE_H
#define MEMSCHEMA_INFLATE_CORE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <zlib.h>

#define INFL_OK 0
#define INFL_DEFER 1

#define INFL_ROOT_LITLEN 10     /* first-level index bits of the literal/length table */
#define INFL_ROOT_DIST 8
#define INFL_ROOT_PRE 7         /* code-length codes are at most 7 bits: one level */
/* one second-level table per first-level slot that starts codes longer than the root, each of
 * 2^(longest code - root) entries; at most one such slot per long code */
#define INFL_LITLEN_ENTRIES ((1u << INFL_ROOT_LITLEN) + 286u * (1u << (15 - INFL_ROOT_LITLEN)))
#define INFL_DIST_ENTRIES ((1u << INFL_ROOT_DIST) + 30u * (1u << (15 - INFL_ROOT_DIST)))
#define INFL_SLACK 8            /* bytes past `cap` that 8-byte match copies may scribble on */

/* A table entry: bits 0-7 bits to consume, 8-11 kind, 12-15 extra bits (a second-level table's
 * index bits for INFL_SUB), 16-31 value (literal, base length or distance, second-level offset). */
enum { INFL_LIT = 0, INFL_BASE = 1, INFL_EOB = 2, INFL_SUB = 3, INFL_BAD = 4 };
#define INFL_ENTRY(value, extra, kind) (((uint32_t)(value) << 16) | ((uint32_t)(extra) << 12) | ((uint32_t)(kind) << 8))
#define INFL_BITS(e) ((e) & 0xFFu)
#define INFL_KIND(e) (((e) >> 8) & 0xFu)
#define INFL_EXTRA(e) (((e) >> 12) & 0xFu)
#define INFL_VALUE(e) ((e) >> 16)

typedef struct {
    uint32_t litlen[INFL_LITLEN_ENTRIES], dist[INFL_DIST_ENTRIES], pre[1u << INFL_ROOT_PRE];
    uint8_t lens[286 + 30];
} infl_state;

/* What each symbol decodes to (without its bit count), and the fixed code's tables: set once by
 * infl_init, read-only afterwards (shared by threads). */
static uint32_t infl_litlen_results[288], infl_dist_results[32], infl_pre_results[19];
static uint32_t infl_fixed_litlen[1u << INFL_ROOT_LITLEN], infl_fixed_dist[1u << INFL_ROOT_DIST];

/* The table of a canonical code (RFC 1951 3.2.2) with code lengths lens[0..n).  `incomplete_ok`:
 * accept what zlib accepts of an incomplete code (a single 1-bit code, or none), its unused
 * codes decoding to INFL_BAD.  INFL_DEFER for every other incomplete or over-subscribed code. */
static int infl_build(uint32_t *table, unsigned root, const uint8_t *lens, unsigned n, const uint32_t *results,
                      int incomplete_ok) {
    /* Counting and sorting by length in four quarters of the symbols at once: one counter per
     * quarter and length, so consecutive symbols of one length do not wait on each other's
     * increment.  Symbols without a code (length 0) sort after all the others. */
    unsigned quarter_count[4][16] = {{0}}, count[16], next[4][16];
    uint16_t sorted[288];
    unsigned q = n / 4;
    for (unsigned s = 0; s < q; s++) {
        quarter_count[0][lens[s]]++;
        quarter_count[1][lens[s + q]]++;
        quarter_count[2][lens[s + 2 * q]]++;
        quarter_count[3][lens[s + 3 * q]]++;
    }
    for (unsigned s = 4 * q; s < n; s++)
        quarter_count[3][lens[s]]++;
    for (unsigned len = 0; len < 16; len++)
        count[len] = quarter_count[0][len] + quarter_count[1][len] + quarter_count[2][len] + quarter_count[3][len];
    unsigned longest = 15;
    while (longest > 0 && count[longest] == 0)
        longest--;
    int left = 1;
    for (unsigned len = 1; len <= 15; len++) {
        left = (left << 1) - (int)count[len];
        if (left < 0)
            return INFL_DEFER;
    }
    if (left > 0) {
        if (!incomplete_ok || longest > 1)
            return INFL_DEFER;
        for (unsigned j = 0; j < (1u << root); j++)
            table[j] = INFL_ENTRY(0, 0, INFL_BAD) | 1u;
        if (longest == 0)
            return INFL_OK;
    }
    unsigned at = 0;
    for (unsigned len = 1; len <= 16; len++) {
        unsigned l = len & 15;                 /* lengths 1 .. 15, then 0 */
        for (unsigned k = 0; k < 4; k++) {
            next[k][l] = at;
            at += quarter_count[k][l];
        }
    }
    for (unsigned s = 0; s < q; s++) {
        sorted[next[0][lens[s]]++] = (uint16_t)s;
        sorted[next[1][lens[s + q]]++] = (uint16_t)(s + q);
        sorted[next[2][lens[s + 2 * q]]++] = (uint16_t)(s + 2 * q);
        sorted[next[3][lens[s + 3 * q]]++] = (uint16_t)(s + 3 * q);
    }
    for (unsigned s = 4 * q; s < n; s++)
        sorted[next[3][lens[s]]++] = (uint16_t)s;
    /* Codes in canonical order; `code` is the current one bit-reversed (the stream sends codes
     * first bit first), incremented as zlib's inflate_table does.  While lengths are within the
     * root, the table holds 2^len entries and each code one of them; doubling the table before
     * the next length repeats every shorter code where its longer neighbours go (one memcpy
     * instead of a strided fill per code).  Codes sharing their first `root` bits are
     * consecutive, so each such slot gets one second-level table. */
    unsigned code = 0, mask = (1u << root) - 1, sub_bits = longest > root ? longest - root : 0;
    unsigned free_at = 1u << root, slot = ~0u, sub = 0, i = 0, filled = 1;
    for (unsigned len = 1; len <= longest; len++) {
        if (len <= root && left == 0) {
            if (len > 1)
                memcpy(table + filled, table, filled * sizeof *table);
            filled = 1u << len;
        }
        for (unsigned c = 0; c < count[len]; c++, i++) {
            uint32_t e = results[sorted[i]];
            if (len <= root) {
                if (left == 0)
                    table[code] = e | len;
                else                           /* incomplete: the table is already whole */
                    for (unsigned j = code; j <= mask; j += 1u << len)
                        table[j] = e | len;
            } else {
                if ((code & mask) != slot) {
                    slot = code & mask;
                    sub = free_at;
                    free_at += 1u << sub_bits;
                    table[slot] = INFL_ENTRY(sub, sub_bits, INFL_SUB) | root;
                }
                for (unsigned j = code >> root; j < (1u << sub_bits); j += 1u << (len - root))
                    table[sub + j] = e | (len - root);
            }
            unsigned step = 1u << (len - 1);
            while (code & step)
                step >>= 1;
            code = step ? (code & (step - 1)) + step : 0;
        }
    }
    for (; left == 0 && filled <= mask; filled <<= 1)     /* the shortest codes of a short table */
        memcpy(table + filled, table, filled * sizeof *table);
    return INFL_OK;
}

static void infl_init(void) {
    static const uint16_t length_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                             31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                             2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const uint16_t dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                           193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    uint8_t lens[288];
    for (unsigned s = 0; s < 256; s++)
        infl_litlen_results[s] = INFL_ENTRY(s, 0, INFL_LIT);
    infl_litlen_results[256] = INFL_ENTRY(0, 0, INFL_EOB);
    for (unsigned s = 257; s < 286; s++)
        infl_litlen_results[s] = INFL_ENTRY(length_base[s - 257], length_extra[s - 257], INFL_BASE);
    infl_litlen_results[286] = infl_litlen_results[287] = INFL_ENTRY(0, 0, INFL_BAD);
    for (unsigned s = 0; s < 30; s++)
        infl_dist_results[s] = INFL_ENTRY(dist_base[s], dist_extra[s], INFL_BASE);
    infl_dist_results[30] = infl_dist_results[31] = INFL_ENTRY(0, 0, INFL_BAD);
    for (unsigned s = 0; s < 19; s++)
        infl_pre_results[s] = INFL_ENTRY(s, 0, INFL_LIT);
    for (unsigned s = 0; s < 288; s++)
        lens[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    infl_build(infl_fixed_litlen, INFL_ROOT_LITLEN, lens, 288, infl_litlen_results, 0);
    memset(lens, 5, 32);
    infl_build(infl_fixed_dist, INFL_ROOT_DIST, lens, 32, infl_dist_results, 0);
}

static inline uint64_t infl_load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* At least 56 bits in the buffer: 8 bytes at once while 8 remain (bytes only partly taken are
 * read again next time), then byte by byte, then zero bytes past the end, counted in `virt`: a
 * stream that reaches into them is cut short, which the end check refuses. */
#define INFL_REFILL()                                                          \
    do {                                                                       \
        if (end - p >= 8) {                                                    \
            bitbuf |= infl_load64(p) << bitsleft;                              \
            p += (63 - bitsleft) >> 3;                                         \
            bitsleft |= 56;                                                    \
        } else {                                                               \
            while (bitsleft < 56) {                                            \
                if (p < end)                                                   \
                    bitbuf |= (uint64_t)*p++ << bitsleft;                      \
                else if (++virt > 8)                                           \
                    return INFL_DEFER;                                         \
                bitsleft += 8;                                                 \
            }                                                                  \
        }                                                                      \
    } while (0)
#define INFL_TAKE(n) (bitbuf >>= (n), bitsleft -= (n))
#define INFL_PEEK(n) ((unsigned)(bitbuf & ((1u << (n)) - 1u)))
/* a second-level entry in place of a pointer to it */
#define INFL_RESOLVE(table, e)                                                 \
    do {                                                                       \
        if (INFL_KIND(e) == INFL_SUB) {                                        \
            unsigned sub_bits_ = INFL_EXTRA(e), at_ = INFL_VALUE(e);           \
            INFL_TAKE(INFL_BITS(e));                                           \
            e = (table)[at_ + INFL_PEEK(sub_bits_)];                           \
        }                                                                      \
    } while (0)

/* The zlib stream in[0..n_in) into out[0..cap) (out holds cap + INFL_SLACK bytes): INFL_OK and
 * *got bytes, or INFL_DEFER (see the top of this file). */
static int infl_zlib(infl_state *st, const uint8_t *in, size_t n_in, uint8_t *out, size_t cap, size_t *got) {
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    if (n_in < 2 + 4)
        return INFL_DEFER;
    unsigned cmf = in[0], flg = in[1];
    if ((cmf & 15) != 8 || (cmf >> 4) > 7 || (flg & 0x20) || ((cmf << 8) | flg) % 31)
        return INFL_DEFER;
    const uint8_t *p = in + 2, *end = in + n_in;
    uint64_t bitbuf = 0;
    unsigned bitsleft = 0;
    size_t virt = 0;
    uint8_t *o = out, *const oend = out + cap;
    unsigned last;
    do {
        INFL_REFILL();
        last = INFL_PEEK(1);
        unsigned type = (unsigned)(bitbuf >> 1) & 3u;
        INFL_TAKE(3);
        if (type == 0) {                       /* stored: LEN, NLEN from the byte boundary */
            INFL_TAKE(bitsleft & 7u);
            unsigned len = INFL_PEEK(16), nlen = (unsigned)(bitbuf >> 16) & 0xFFFFu;
            INFL_TAKE(32);
            if (len != (~nlen & 0xFFFFu))
                return INFL_DEFER;
            size_t held = bitsleft >> 3;       /* whole bytes still in the buffer go back */
            if (held < virt)
                return INFL_DEFER;
            p -= held - virt;
            virt = 0;
            bitbuf = 0;
            bitsleft = 0;
            if ((size_t)(end - p) < len || (size_t)(oend - o) < len)
                return INFL_DEFER;
            memcpy(o, p, len);
            o += len;
            p += len;
            continue;
        }
        const uint32_t *litlen, *dist;
        if (type == 1) {
            litlen = infl_fixed_litlen;
            dist = infl_fixed_dist;
        } else if (type == 2) {
            unsigned n_litlen = INFL_PEEK(5) + 257, n_dist = (unsigned)((bitbuf >> 5) & 31u) + 1,
                     n_pre = (unsigned)((bitbuf >> 10) & 15u) + 4;
            INFL_TAKE(14);
            if (n_litlen > 286 || n_dist > 30)
                return INFL_DEFER;
            uint8_t pre_lens[19] = {0};
            for (unsigned k = 0; k < n_pre; k++) {
                if (bitsleft < 3)
                    INFL_REFILL();
                pre_lens[order[k]] = (uint8_t)INFL_PEEK(3);
                INFL_TAKE(3);
            }
            if (infl_build(st->pre, INFL_ROOT_PRE, pre_lens, 19, infl_pre_results, 0))
                return INFL_DEFER;
            unsigned k = 0, total = n_litlen + n_dist;
            while (k < total) {
                if (bitsleft < 14)
                    INFL_REFILL();
                uint32_t e = st->pre[INFL_PEEK(INFL_ROOT_PRE)];
                INFL_TAKE(INFL_BITS(e));
                unsigned sym = INFL_VALUE(e), repeat;
                uint8_t value = 0;
                if (sym < 16) {
                    st->lens[k++] = (uint8_t)sym;
                    continue;
                }
                if (sym == 16) {
                    if (k == 0)
                        return INFL_DEFER;
                    value = st->lens[k - 1];
                    repeat = 3 + INFL_PEEK(2);
                    INFL_TAKE(2);
                } else if (sym == 17) {
                    repeat = 3 + INFL_PEEK(3);
                    INFL_TAKE(3);
                } else {
                    repeat = 11 + INFL_PEEK(7);
                    INFL_TAKE(7);
                }
                if (k + repeat > total)
                    return INFL_DEFER;
                memset(st->lens + k, value, repeat);
                k += repeat;
            }
            if (st->lens[256] == 0 ||
                infl_build(st->litlen, INFL_ROOT_LITLEN, st->lens, n_litlen, infl_litlen_results, 1) ||
                infl_build(st->dist, INFL_ROOT_DIST, st->lens + n_litlen, n_dist, infl_dist_results, 1))
                return INFL_DEFER;
            litlen = st->litlen;
            dist = st->dist;
        } else {
            return INFL_DEFER;
        }
        /* After a refill: 56 bits, enough for three literals (15 bits each) or one length and
         * distance (15 + 5 + 15 + 13). */
        for (;;) {
            INFL_REFILL();
            uint32_t e = litlen[INFL_PEEK(INFL_ROOT_LITLEN)];
            if (INFL_KIND(e) == INFL_LIT) {
                if (oend - o < 3)
                    goto one_symbol;
                INFL_TAKE(INFL_BITS(e));
                *o++ = (uint8_t)INFL_VALUE(e);
                e = litlen[INFL_PEEK(INFL_ROOT_LITLEN)];
                if (INFL_KIND(e) != INFL_LIT)
                    continue;
                INFL_TAKE(INFL_BITS(e));
                *o++ = (uint8_t)INFL_VALUE(e);
                e = litlen[INFL_PEEK(INFL_ROOT_LITLEN)];
                if (INFL_KIND(e) != INFL_LIT)
                    continue;
                INFL_TAKE(INFL_BITS(e));
                *o++ = (uint8_t)INFL_VALUE(e);
                continue;
            }
        one_symbol:
            INFL_RESOLVE(litlen, e);
            INFL_TAKE(INFL_BITS(e));
            unsigned kind = INFL_KIND(e);
            if (kind == INFL_LIT) {
                if (o >= oend)
                    return INFL_DEFER;
                *o++ = (uint8_t)INFL_VALUE(e);
                continue;
            }
            if (kind == INFL_EOB)
                break;
            if (kind != INFL_BASE)
                return INFL_DEFER;
            size_t len = INFL_VALUE(e) + INFL_PEEK(INFL_EXTRA(e));
            INFL_TAKE(INFL_EXTRA(e));
            e = dist[INFL_PEEK(INFL_ROOT_DIST)];
            INFL_RESOLVE(dist, e);
            INFL_TAKE(INFL_BITS(e));
            if (INFL_KIND(e) != INFL_BASE)
                return INFL_DEFER;
            size_t back = INFL_VALUE(e) + INFL_PEEK(INFL_EXTRA(e));
            INFL_TAKE(INFL_EXTRA(e));
            if (back > (size_t)(o - out) || len > (size_t)(oend - o))
                return INFL_DEFER;
            const uint8_t *from = o - back;
            if (back >= 8) {                   /* 8-byte steps never read bytes not yet written */
                for (size_t j = 0; j < len; j += 8)
                    memcpy(o + j, from + j, 8);
            } else {
                for (size_t j = 0; j < len; j++)
                    o[j] = from[j];
            }
            o += len;
        }
    } while (!last);
    INFL_TAKE(bitsleft & 7u);
    size_t held = bitsleft >> 3;
    if (held < virt)
        return INFL_DEFER;
    const uint8_t *stop = p - (held - virt);
    if (end - stop != 4)
        return INFL_DEFER;
    uint32_t want = (uint32_t)stop[0] << 24 | (uint32_t)stop[1] << 16 | (uint32_t)stop[2] << 8 | stop[3];
    if ((uint32_t)adler32(1L, out, (uInt)(o - out)) != want)
        return INFL_DEFER;
    *got = (size_t)(o - out);
    return INFL_OK;
}

#endif
