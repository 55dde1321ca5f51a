/* Fast path of token_lzw.decode (smart-tree token_codec.rs, MEM8.md 2.6 step 2).
 *
 * decode(tokens, raw_len) -> bytes on success, or a tuple (kind, offset, a, b) naming the first
 * failure (kinds in lzw_core.h); token_lzw.py turns it into the same CodecError as the pure-Python
 * decoder.  Memory: the output (at most raw_len, allocated once) plus one entry per code (at most
 * 64 Ki).  The GIL is released while decoding.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#include "lzw_core.h"

static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer view;
    long long raw_len_arg;
    if (!PyArg_ParseTuple(args, "y*L", &view, &raw_len_arg))
        return NULL;
    if (raw_len_arg < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "raw_len must not be negative");
        return NULL;
    }
    const uint8_t *in = (const uint8_t *)view.buf;
    uint64_t raw_len = (uint64_t)raw_len_arg, cap = 0;
    lzw_failure f = {0, 0, 0, 0};
    ptrdiff_t n_codes = 0;
    uint8_t *out = NULL;
    uint64_t *entry_off = NULL, *entry_len = NULL;
    int kind, nomem = 0;

    Py_BEGIN_ALLOW_THREADS
    kind = lzw_scan(in, view.len, &n_codes, &f);
    if (kind == 0) {
        cap = lzw_cap(n_codes, raw_len);
        ptrdiff_t slots = lzw_slots(n_codes);
        out = (uint8_t *)malloc(cap + LZW_SLACK);
        entry_off = (uint64_t *)malloc(sizeof(uint64_t) * slots);
        entry_len = (uint64_t *)malloc(sizeof(uint64_t) * slots);
        if (!out || !entry_off || !entry_len)
            nomem = 1;
        else
            kind = lzw_expand(in, view.len, raw_len, out, cap, entry_off, entry_len, &f);
    }
    Py_END_ALLOW_THREADS

    PyObject *result = NULL;
    if (nomem)
        PyErr_NoMemory();
    else if (kind < 0)
        PyErr_SetString(PyExc_SystemError, "LZW output bound exceeded");
    else if (kind > 0)
        result = Py_BuildValue("(inLL)", kind, (Py_ssize_t)f.offset, f.a, f.b);
    else
        result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)raw_len);
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
