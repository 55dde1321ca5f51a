/* The token-LZW decoder (smart-tree token_codec.rs, MEM8.md 2.6 step 2) without the Python API,
 * so that it runs with the GIL released; shared by _lzw.c (one stream) and _frames.c (a batch of
 * record frames).
 *
 * Failure kinds, in the order the pure-Python decoder checks them: 1 stream ends inside a varint,
 * 2 varint longer than 3 bytes, 3 code >= 65536 (a = code), 4 code not in the dictionary (a = code,
 * b = dictionary size), 5 output would exceed raw_len, 6 output shorter than raw_len (a = size).
 * lzw_scan finds kinds 1-3 for the whole stream first, as the Python decoder does; lzw_expand also
 * refuses a bad varint itself (kind 7), so a caller that needs no error kinds skips the scan.
 *
 * Every dictionary entry above 255 is a slice of the output already written (the previous entry
 * plus the next byte), so the dictionary is (offset, length) pairs and decoding is a forward copy.
 */
#ifndef MEMSCHEMA_LZW_CORE_H
#define MEMSCHEMA_LZW_CORE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define LZW_MAX_CODES 65536
#define LZW_MAX_VARINT_BYTES 3
#define LZW_SLACK 16            /* bytes past the output's end that short copies may scribble on */

typedef struct {
    int kind;
    ptrdiff_t offset;
    long long a, b;
} lzw_failure;

/* Pass 1: the varint layer as a whole.  Returns 0 and the number of codes, or a failure kind. */
static int lzw_scan(const uint8_t *in, ptrdiff_t n_in, ptrdiff_t *n_codes, lzw_failure *f) {
    *n_codes = 0;
    if (n_in == 0)
        return 0;
    if (in[n_in - 1] & 0x80) {
        ptrdiff_t last_end = -1;
        for (ptrdiff_t i = n_in - 1; i >= 0; i--)
            if (!(in[i] & 0x80)) { last_end = i; break; }
        f->offset = last_end + 1;
        return f->kind = 1;
    }
    ptrdiff_t first_long = -1, first_big = -1, start = 0, codes = 0;
    long long big_code = 0;
    for (ptrdiff_t i = 0; i < n_in; i++) {
        if (in[i] & 0x80)
            continue;
        ptrdiff_t len = i - start + 1;
        codes++;
        if (len > LZW_MAX_VARINT_BYTES) {
            if (first_long < 0) first_long = start;
        } else if (first_big < 0 && len == LZW_MAX_VARINT_BYTES) {
            long long code = (in[start] & 0x7F) | ((in[start + 1] & 0x7F) << 7) | ((long long)(in[start + 2] & 0x7F) << 14);
            if (code >= LZW_MAX_CODES) { first_big = start; big_code = code; }
        }
        start = i + 1;
    }
    if (first_long >= 0) { f->offset = first_long; return f->kind = 2; }
    if (first_big >= 0) { f->offset = first_big; f->a = big_code; return f->kind = 3; }
    *n_codes = codes;
    return 0;
}

/* The most bytes the output can need: n codes emit at most 1 + 2 + ... + n bytes (an entry is at
 * most one byte longer than the previous one), and never more than raw_len. */
static uint64_t lzw_cap(ptrdiff_t n_codes, uint64_t raw_len) {
    uint64_t most = (uint64_t)n_codes * ((uint64_t)n_codes + 1) / 2;
    return raw_len < most ? raw_len : most;
}

/* Dictionary slots needed: one new entry per code at most, never above LZW_MAX_CODES. */
static ptrdiff_t lzw_slots(ptrdiff_t n_codes) {
    return n_codes + 256 < LZW_MAX_CODES ? n_codes + 256 : LZW_MAX_CODES;
}

/* Pass 2: exactly raw_len bytes into `out`, which holds cap + LZW_SLACK bytes (cap: lzw_cap(...)
 * after lzw_scan, else raw_len); entry_off/entry_len hold lzw_slots(...) entries (LZW_MAX_CODES
 * without the scan).  Returns 0, a failure kind, or -1 if the output bound was wrong (a bug). */
static int lzw_expand(const uint8_t *in, ptrdiff_t n_in, uint64_t raw_len, uint8_t *out, uint64_t cap,
                      uint64_t *entry_off, uint64_t *entry_len, lzw_failure *f) {
    uint64_t size = 0, prev_off = 0, prev_len = 0;
    uint32_t n = 256;
    int have_prev = 0;
    ptrdiff_t pos = 0;
    while (pos < n_in) {
        ptrdiff_t at = pos;
        uint32_t code = 0;
        int shift = 0;
        for (;;) {
            if (pos >= n_in || pos - at >= LZW_MAX_VARINT_BYTES) { f->offset = at; return f->kind = 7; }
            uint8_t b = in[pos++];
            code |= (uint32_t)(b & 0x7F) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (code >= LZW_MAX_CODES) { f->offset = at; f->a = code; return f->kind = 7; }
        uint64_t src, len;
        if (code < 256) {
            if (size + 1 > raw_len) { f->offset = at; return f->kind = 5; }
            if (size + 1 > cap) return -1;
            out[size] = (uint8_t)code;
            len = 1;
            src = size;
        } else {
            if (code < n) {
                src = entry_off[code]; len = entry_len[code];
            } else if (code == n && have_prev) {
                src = prev_off; len = prev_len + 1;
            } else {
                f->offset = at; f->a = code; f->b = n;
                return f->kind = 4;
            }
            if (size + len > raw_len) { f->offset = at; return f->kind = 5; }
            if (size + len > cap) return -1;
            if (len <= LZW_SLACK && src + len <= size) {
                /* both halves are loaded before either is stored: the bytes past `len` are
                 * scratch (the next code overwrites them, the slack holds them at the end) */
                uint64_t lo, hi;
                memcpy(&lo, out + src, 8);
                memcpy(&hi, out + src + 8, 8);
                memcpy(out + size, &lo, 8);
                memcpy(out + size + 8, &hi, 8);
            } else if (src + len <= size) {
                memcpy(out + size, out + src, len);
            } else {   /* code == n: the entry reads the byte it is writing */
                for (uint64_t j = 0; j < len; j++) out[size + j] = out[src + j];
            }
        }
        if (have_prev && n < LZW_MAX_CODES) {
            entry_off[n] = prev_off;
            entry_len[n] = prev_len + 1;
            n++;
        }
        have_prev = 1;
        prev_off = size;
        prev_len = len;
        size += len;
    }
    if (size != raw_len) { f->offset = n_in; f->a = (long long)size; return f->kind = 6; }
    return 0;
}

#endif
