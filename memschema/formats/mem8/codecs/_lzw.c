/* Fast path of token_lzw.decode (smart-tree token_codec.rs, MEM8.md 2.6 step 2).
 *
 * decode(tokens, raw_len) -> bytes on success, or a tuple (kind, offset, a, b) naming the first
 * failure in the same order the pure-Python decoder checks them; token_lzw.py turns it into the
 * same CodecError.  Kinds: 1 stream ends inside a varint, 2 varint longer than 3 bytes, 3 code
 * >= 65536 (a = code), 4 code not in the dictionary (a = code, b = dictionary size), 5 output
 * would exceed raw_len, 6 output shorter than raw_len (a = size).
 *
 * Every dictionary entry above 255 is a slice of the output already written (the previous entry
 * plus the next byte), so the dictionary is (offset, length) pairs and decoding is a forward copy.
 * Memory: the output (at most raw_len, allocated once) plus one entry per code (at most 64 Ki).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODES 65536
#define MAX_VARINT_BYTES 3

static PyObject *failure(int kind, Py_ssize_t offset, long long a, long long b) {
    return Py_BuildValue("(inLL)", kind, offset, a, b);
}

static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer view;
    long long raw_len_arg;
    if (!PyArg_ParseTuple(args, "y*L", &view, &raw_len_arg))
        return NULL;
    const uint8_t *in = (const uint8_t *)view.buf;
    Py_ssize_t n_in = view.len;
    PyObject *result = NULL;
    uint8_t *out = NULL;
    uint64_t *entry_off = NULL, *entry_len = NULL;
    Py_ssize_t n_codes = 0;

    if (raw_len_arg < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "raw_len must not be negative");
        return NULL;
    }
    /* Pass 1: the varint layer as a whole, in the pure decoder's order of checks. */
    if (n_in > 0) {
        if (in[n_in - 1] & 0x80) {
            Py_ssize_t last_end = -1;
            for (Py_ssize_t i = n_in - 1; i >= 0; i--)
                if (!(in[i] & 0x80)) { last_end = i; break; }
            result = failure(1, last_end + 1, 0, 0);
            goto done;
        }
        Py_ssize_t first_long = -1, first_big = -1;
        long long big_code = 0;
        Py_ssize_t start = 0;
        for (Py_ssize_t i = 0; i < n_in; i++) {
            if (in[i] & 0x80)
                continue;
            Py_ssize_t len = i - start + 1;
            n_codes++;
            if (len > MAX_VARINT_BYTES) {
                if (first_long < 0) first_long = start;
            } else if (first_big < 0 && len == MAX_VARINT_BYTES) {
                long long code = (in[start] & 0x7F) | ((in[start + 1] & 0x7F) << 7) | ((long long)(in[start + 2] & 0x7F) << 14);
                if (code >= MAX_CODES) { first_big = start; big_code = code; }
            }
            start = i + 1;
        }
        if (first_long >= 0) { result = failure(2, first_long, 0, 0); goto done; }
        if (first_big >= 0) { result = failure(3, first_big, big_code, 0); goto done; }
    }
    /* Pass 2: the dictionary. */
    uint64_t raw_len = (uint64_t)raw_len_arg;
    /* n codes emit at most 1 + 2 + ... + n bytes (an entry is at most one byte longer than the
     * previous one), so the output never needs more than min(raw_len, that) bytes */
    uint64_t most = (uint64_t)n_codes * ((uint64_t)n_codes + 1) / 2;
    uint64_t cap = raw_len < most ? raw_len : most;
    out = (uint8_t *)malloc(cap ? cap : 1);
    /* one new entry per code at most: index room for 256 + n_codes entries, never above MAX_CODES */
    Py_ssize_t slots = n_codes + 256 < MAX_CODES ? n_codes + 256 : MAX_CODES;
    entry_off = (uint64_t *)malloc(sizeof(uint64_t) * slots);
    entry_len = (uint64_t *)malloc(sizeof(uint64_t) * slots);
    if (!out || !entry_off || !entry_len) { PyErr_NoMemory(); goto done; }
    uint64_t size = 0;
    uint32_t n = 256;
    int have_prev = 0;
    uint64_t prev_off = 0, prev_len = 0;
    Py_ssize_t pos = 0;
    while (pos < n_in) {
        Py_ssize_t at = pos;
        uint32_t code = in[pos] & 0x7F;
        int shift = 7;
        while (in[pos] & 0x80) {
            pos++;
            code |= (uint32_t)(in[pos] & 0x7F) << shift;
            shift += 7;
        }
        pos++;
        uint64_t src, len;
        int literal = 0;
        if (code < 256) {
            literal = 1; src = 0; len = 1;
        } else if (code < n) {
            src = entry_off[code]; len = entry_len[code];
        } else if (code == n && have_prev) {
            src = prev_off; len = prev_len + 1;
        } else {
            result = failure(4, at, code, n);
            goto done;
        }
        if (size + len > raw_len) { result = failure(5, at, 0, 0); goto done; }
        if (size + len > cap) { PyErr_SetString(PyExc_SystemError, "LZW output bound exceeded"); goto done; }
        if (literal) {
            out[size] = (uint8_t)code;
        } else if (src + len <= size) {
            memcpy(out + size, out + src, len);
        } else {   /* code == n: the entry reads the byte it is writing */
            for (uint64_t j = 0; j < len; j++) out[size + j] = out[src + j];
        }
        if (have_prev && n < MAX_CODES) {
            entry_off[n] = prev_off;
            entry_len[n] = prev_len + 1;
            n++;
        }
        have_prev = 1;
        prev_off = size;
        prev_len = len;
        size += len;
    }
    if (size != raw_len) { result = failure(6, n_in, (long long)size, 0); goto done; }
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)size);
done:
    free(out);
    free(entry_off);
    free(entry_len);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS, "decode(tokens, raw_len) -> bytes, or (kind, offset, a, b) on failure"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lzw", "C fast path of token_lzw.decode", -1, methods};

PyMODINIT_FUNC PyInit__lzw(void) { return PyModule_Create(&module); }
