/* Fast path of record_frame.decode_compressed over a batch of record frames (MEM8.md 2.6): per
 * frame the payload CRC-32, zlib (at most 3*raw_len bytes, the whole input consumed), the token
 * codec (lzw_core.h) and bincode's Record {key, value}.
 *
 * decode(data, starts, lengths, raw_lens, crcs, keep) -> (keys, values, failed, crc_failed)
 *   frame i's compressed bytes are data[starts[i]:starts[i] + lengths[i]] (int64 buffers);
 *   raw_lens, crcs: uint32 buffers (header fields raw_len and payload_crc32); keep: whether to
 *   return the values.
 *   keys[i] is the key (str) of frame i, or None when any layer refused it; values[i] its value
 *   (bytes), or values is None when not kept; failed lists the refused frames' indices, and
 *   crc_failed those of them refused at the first step (the payload CRC).
 *
 * crc_rows(data, starts, length, hole_at, hole_len) -> bytes: CRC-32 seals of many rows (below).
 *
 * inflate(data, cap) -> bytes or None: the zlib layer's own decoder alone (inflate_core.h), for tests.
 *
 * It only says *whether* a frame decodes: record_frame.py decodes the failed ones again in Python,
 * which names the layer, field and offset.  Runs of frames are decoded with the GIL released (it is
 * taken back only to make the run's Python objects), so two threads decode two halves of a batch at
 * once without handing the GIL to each other frame by frame.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <zlib.h>

#include "inflate_core.h"
#include "lzw_core.h"

#define MAX_FRAME_LEN (64u << 20)      /* MAX_FRAME_LEN in record_frame.py, bincode's LIMIT */

typedef struct {
    z_stream zs;
    int zs_ready;
    infl_state *inflater;
    uint8_t *tokens, *raw;
    size_t tokens_cap, raw_cap;
    uint64_t *entry_off, *entry_len;
} scratch;

static int grow(uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return 1;
    uint8_t *p = (uint8_t *)realloc(*buf, need);
    if (!p)
        return 0;
    *buf = p;
    *cap = need;
    return 1;
}

/* bincode varint (MEM8.md 2.6 step 3) at *pos of data[0..n); 0 if it is cut short or its tag unknown */
static int varint(const uint8_t *data, uint64_t n, uint64_t *pos, uint64_t *value) {
    if (*pos >= n)
        return 0;
    uint8_t tag = data[*pos];
    if (tag < 251) {
        *value = tag;
        *pos += 1;
        return 1;
    }
    unsigned width = tag == 251 ? 2 : tag == 252 ? 4 : tag == 253 ? 8 : 0;
    if (!width || *pos + 1 + width > n)
        return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)data[*pos + 1 + i] << (8 * i);
    *value = v;
    *pos += 1 + width;
    return 1;
}

static int sized(const uint8_t *data, uint64_t n, uint64_t *pos, uint64_t *start, uint64_t *len) {
    if (!varint(data, n, pos, len) || *len > MAX_FRAME_LEN || *pos + *len > n)
        return 0;
    *start = *pos;
    *pos += *len;
    return 1;
}

/* zlib's verdict on a frame's zlib layer: 1 and s->zs.total_out tokens in s->tokens (which holds
 * bound + 1 bytes), 0 if it refuses, -1 out of memory. */
static int zlib_inflate(scratch *s, const uint8_t *in, size_t n_in, uint64_t bound) {
    if (!s->zs_ready) {
        memset(&s->zs, 0, sizeof s->zs);
        if (inflateInit(&s->zs) != Z_OK)
            return -1;
        s->zs_ready = 1;
    } else if (inflateReset(&s->zs) != Z_OK) {
        return -1;
    }
    s->zs.next_in = (Bytef *)in;
    s->zs.avail_in = (uInt)n_in;
    s->zs.next_out = s->tokens;
    s->zs.avail_out = (uInt)(bound + 1);
    int z = inflate(&s->zs, Z_FINISH);
    return z == Z_STREAM_END && s->zs.avail_in == 0 && s->zs.total_out <= bound;
}

/* One frame without the GIL: 1 and the key's and value's places in s->raw, 0 if any layer refuses
 * it (2 if it is the payload CRC), -1 out of memory. */
static int frame(scratch *s, const uint8_t *in, size_t n_in, uint32_t raw_len, uint32_t crc,
                 uint64_t *key_at, uint64_t *key_len, uint64_t *value_at, uint64_t *value_len) {
    if (raw_len < 1 || raw_len > MAX_FRAME_LEN || n_in > MAX_FRAME_LEN)
        return 0;
    if ((uint32_t)crc32(0L, in, (uInt)n_in) != crc)
        return 2;
    uint64_t bound = 3 * (uint64_t)raw_len;
    if (!grow(&s->tokens, &s->tokens_cap, bound + INFL_SLACK + 1))
        return -1;
    if (!s->inflater && !(s->inflater = (infl_state *)malloc(sizeof *s->inflater)))
        return -1;
    size_t got = 0;
    if (infl_zlib(s->inflater, in, n_in, s->tokens, bound, &got) != INFL_OK) {   /* zlib decides */
        int z = zlib_inflate(s, in, n_in, bound);
        if (z <= 0)
            return z;
        got = s->zs.total_out;
    }
    lzw_failure f = {0, 0, 0, 0};   /* only success matters here: no lzw_scan for the error kinds */
    if (!grow(&s->raw, &s->raw_cap, (uint64_t)raw_len + LZW_SLACK))
        return -1;
    if (lzw_expand(s->tokens, (ptrdiff_t)got, raw_len, s->raw, raw_len, s->entry_off, s->entry_len, &f))
        return 0;
    uint64_t pos = 0;
    if (!sized(s->raw, raw_len, &pos, key_at, key_len) || !sized(s->raw, raw_len, &pos, value_at, value_len))
        return 0;
    return pos == raw_len;
}

/* What a run of frames decoded to while the GIL was released: a status per frame (frame()'s
 * result), and the key (and value, when kept) of each decoded frame copied to `arena`; except for
 * a kept value over RUN_BYTES, which ends the run and stays where frame() put it (s->raw at
 * `big_key_at`, `big_value_at`), so that a large record is not held twice before Python has it. */
typedef struct {
    int *status;
    uint64_t *key_len, *value_len;
    uint8_t *arena;
    size_t arena_cap, arena_used;
    Py_ssize_t big;                   /* the frame left in s->raw, or -1 */
    uint64_t big_key_at, big_value_at;
} run_out;

#define RUN_FRAMES 256            /* frames per release of the GIL */
#define RUN_BYTES (1u << 20)      /* arena bytes after which a run ends early (kept values) */

/* Frames [first, *end) without the GIL (at least one; the run ends early once RUN_BYTES are held).
 * 0, or -1 out of memory. */
static int decode_some(scratch *s, run_out *o, const uint8_t *data, Py_ssize_t data_len, const int64_t *start,
                       const int64_t *length, const uint32_t *raw_len, const uint32_t *crc, int keep,
                       Py_ssize_t first, Py_ssize_t *end) {
    o->arena_used = 0;
    o->big = -1;
    Py_ssize_t i = first;
    for (; i < *end && (i == first || o->arena_used < RUN_BYTES); i++) {
        int k = (int)(i - first), ok = 0;
        uint64_t key_at = 0, value_at = 0;
        o->key_len[k] = o->value_len[k] = 0;
        if (start[i] >= 0 && length[i] >= 0 && length[i] <= data_len - start[i])
            ok = frame(s, data + start[i], (size_t)length[i], raw_len[i], crc[i], &key_at, &o->key_len[k],
                       &value_at, &o->value_len[k]);
        if (ok < 0)
            return -1;
        o->status[k] = ok;
        if (ok != 1)
            continue;
        if (keep && o->value_len[k] > RUN_BYTES) {
            o->big = i;
            o->big_key_at = key_at;
            o->big_value_at = value_at;
            i++;
            break;
        }
        uint64_t need = o->key_len[k] + (keep ? o->value_len[k] : 0);
        if (!grow(&o->arena, &o->arena_cap, o->arena_used + need + 1))
            return -1;
        memcpy(o->arena + o->arena_used, s->raw + key_at, o->key_len[k]);
        if (keep)
            memcpy(o->arena + o->arena_used + o->key_len[k], s->raw + value_at, o->value_len[k]);
        o->arena_used += need;
    }
    *end = i;
    return 0;
}

static PyObject *decode(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer data, starts, lengths, raw_lens, crcs;
    int keep;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*p", &data, &starts, &lengths, &raw_lens, &crcs, &keep))
        return NULL;
    Py_ssize_t n = starts.len / 8;
    PyObject *keys = NULL, *values = NULL, *failed = NULL, *crc_failed = NULL, *result = NULL;
    scratch s;
    run_out o;
    memset(&s, 0, sizeof s);
    memset(&o, 0, sizeof o);
    if (starts.len != n * 8 || lengths.len != n * 8 || raw_lens.len != n * 4 || crcs.len != n * 4) {
        PyErr_SetString(PyExc_ValueError, "starts and lengths need one int64, raw_lens and crcs one uint32 per frame");
        goto done;
    }
    keys = PyList_New(n);
    values = keep ? PyList_New(n) : Py_NewRef(Py_None);
    failed = PyList_New(0);
    crc_failed = PyList_New(0);
    s.entry_off = (uint64_t *)malloc(sizeof(uint64_t) * LZW_MAX_CODES);
    s.entry_len = (uint64_t *)malloc(sizeof(uint64_t) * LZW_MAX_CODES);
    o.status = (int *)malloc(sizeof(int) * RUN_FRAMES);
    o.key_len = (uint64_t *)malloc(sizeof(uint64_t) * RUN_FRAMES);
    o.value_len = (uint64_t *)malloc(sizeof(uint64_t) * RUN_FRAMES);
    if (!keys || !values || !failed || !crc_failed)
        goto done;
    if (!s.entry_off || !s.entry_len || !o.status || !o.key_len || !o.value_len) {
        PyErr_NoMemory();
        goto done;
    }
    const uint32_t *raw_len = (const uint32_t *)raw_lens.buf, *crc = (const uint32_t *)crcs.buf;
    const int64_t *start = (const int64_t *)starts.buf, *length = (const int64_t *)lengths.buf;
    for (Py_ssize_t first = 0; first < n;) {
        Py_ssize_t end = first + RUN_FRAMES < n ? first + RUN_FRAMES : n;
        int got;
        Py_BEGIN_ALLOW_THREADS
        got = decode_some(&s, &o, (const uint8_t *)data.buf, data.len, start, length, raw_len, crc, keep, first, &end);
        Py_END_ALLOW_THREADS
        if (got < 0) {
            PyErr_NoMemory();
            goto done;
        }
        size_t at = 0;
        for (Py_ssize_t i = first; i < end; i++) {
            int k = (int)(i - first), ok = o.status[k];
            PyObject *key = NULL, *value = NULL;
            if (ok == 1) {
                const uint8_t *key_bytes, *value_bytes;
                if (i == o.big) {
                    key_bytes = s.raw + o.big_key_at;
                    value_bytes = s.raw + o.big_value_at;
                } else {
                    key_bytes = o.arena + at;
                    value_bytes = key_bytes + o.key_len[k];
                    at += o.key_len[k] + (keep ? o.value_len[k] : 0);
                }
                key = PyUnicode_DecodeUTF8((const char *)key_bytes, (Py_ssize_t)o.key_len[k], "strict");
                if (!key) {   /* not UTF-8: a refusal like any other, named by the Python decoder */
                    if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
                        goto done;
                    PyErr_Clear();
                } else if (keep && !(value = PyBytes_FromStringAndSize((const char *)value_bytes,
                                                                       (Py_ssize_t)o.value_len[k]))) {
                    Py_DECREF(key);
                    goto done;
                }
            }
            if (!key) {
                PyObject *index = PyLong_FromSsize_t(i);
                if (!index || PyList_Append(failed, index) < 0 || (ok == 2 && PyList_Append(crc_failed, index) < 0)) {
                    Py_XDECREF(index);
                    goto done;
                }
                Py_DECREF(index);
                key = Py_NewRef(Py_None);
                if (keep)
                    value = Py_NewRef(Py_None);
            }
            PyList_SET_ITEM(keys, i, key);
            if (keep)
                PyList_SET_ITEM(values, i, value);
        }
        first = end;
    }
    result = PyTuple_Pack(4, keys, values, failed, crc_failed);
done:
    if (s.zs_ready)
        inflateEnd(&s.zs);
    free(s.tokens);
    free(s.inflater);
    free(s.raw);
    free(s.entry_off);
    free(s.entry_len);
    free(o.status);
    free(o.key_len);
    free(o.value_len);
    free(o.arena);
    Py_XDECREF(keys);
    Py_XDECREF(values);
    Py_XDECREF(failed);
    Py_XDECREF(crc_failed);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&raw_lens);
    PyBuffer_Release(&crcs);
    return result;
}

/* crc_rows(data, starts, length, hole_at, hole_len) -> bytes: for each start s (an int64 buffer), the
 * CRC-32 of data[s:s + length] with the hole_len bytes at s + hole_at counted as zeros (a block's
 * own seal; hole_len 0: none), as little-endian uint32 values.  One call for thousands of seals or
 * frame headers, with the GIL released. */
static PyObject *crc_rows(PyObject *self, PyObject *args) {
    static const uint8_t zeros[16] = {0};
    Py_buffer data, starts;
    Py_ssize_t length, hole_at, hole_len;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*nnn", &data, &starts, &length, &hole_at, &hole_len))
        return NULL;
    Py_ssize_t n = starts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *at = (const int64_t *)starts.buf;
    if (starts.len % (Py_ssize_t)sizeof(int64_t) || length < 0 || length > UINT32_MAX || hole_at < 0 ||
        hole_len < 0 || hole_len > (Py_ssize_t)sizeof(zeros) || hole_at + hole_len > length) {
        PyErr_SetString(PyExc_ValueError, "crc_rows: bad starts, length or hole");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (at[i] < 0 || at[i] > data.len - length) {
            PyErr_SetString(PyExc_ValueError, "crc_rows: a row runs past the data");
            goto done;
        }
    result = PyBytes_FromStringAndSize(NULL, n * 4);
    if (!result)
        goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    const uint8_t *base = (const uint8_t *)data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint8_t *row = base + at[i];
        uLong c;
        if (hole_len) {
            c = crc32(0L, row, (uInt)hole_at);
            c = crc32(c, zeros, (uInt)hole_len);
            c = crc32(c, row + hole_at + hole_len, (uInt)(length - hole_at - hole_len));
        } else {                  /* one call: thousands of 12-byte frame-header prefixes */
            c = crc32(0L, row, (uInt)length);
        }
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(c >> (8 * b));
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    return result;
}

/* inflate(data, cap) -> bytes or None: inflate_core.h's decoder alone on a zlib stream (None where
 * it leaves the stream to zlib), for the differential tests against zlib. */
static PyObject *inflate_only(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer data;
    Py_ssize_t cap;
    if (!PyArg_ParseTuple(args, "y*n", &data, &cap))
        return NULL;
    PyObject *result = NULL;
    infl_state *st = NULL;
    uint8_t *out = NULL;
    if (cap < 0 || cap > (Py_ssize_t)(3u * MAX_FRAME_LEN)) {
        PyErr_SetString(PyExc_ValueError, "inflate: cap must be in 0 .. 3 * MAX_FRAME_LEN");
        goto done;
    }
    st = (infl_state *)malloc(sizeof *st);
    out = (uint8_t *)malloc((size_t)cap + INFL_SLACK);
    if (!st || !out) {
        PyErr_NoMemory();
        goto done;
    }
    size_t got = 0;
    int verdict;
    Py_BEGIN_ALLOW_THREADS
    verdict = infl_zlib(st, (const uint8_t *)data.buf, (size_t)data.len, out, (size_t)cap, &got);
    Py_END_ALLOW_THREADS
    result = verdict == INFL_OK ? PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)got) : Py_NewRef(Py_None);
done:
    free(st);
    free(out);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS,
     "decode(data, starts, lengths, raw_lens, crcs, keep) -> (keys, values, failed, crc_failed)"},
    {"crc_rows", crc_rows, METH_VARARGS, "crc_rows(data, starts, length, hole_at, hole_len) -> bytes"},
    {"inflate", inflate_only, METH_VARARGS, "inflate(data, cap) -> bytes, or None where zlib must decide"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_frames", "C fast path of a batch of record frames",
                                    -1, methods};

PyMODINIT_FUNC PyInit__frames(void) {
    infl_init();
    return PyModule_Create(&module);
}
