/* The runtime's `simple_shake256_256` (RVF.md 3.9; hashes.fold32 is the Python original): an
 * additive byte fold into 32 bytes that every runtime WITNESS payload's prev_hash is checked
 * against.  Byte by byte with a carried state, so numpy cannot do it; in Python it costs about
 * 150 ns a byte.
 *
 * fold32(data) -> bytes (32)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static PyObject *fold32(PyObject *self, PyObject *arg) {
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0)
        return NULL;
    uint8_t s[32] = {0};
    const uint8_t *p = (const uint8_t *)data.buf;
    for (Py_ssize_t i = 0; i < data.len; i++) {
        uint8_t v = (uint8_t)(s[i & 31] + p[i]);
        s[i & 31] = v;
        s[(i + 13) & 31] = (uint8_t)(s[(i + 13) & 31] + (uint8_t)((v << 3) | (v >> 5)));
    }
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)s, sizeof(s));
}

static PyMethodDef methods[] = {
    {"fold32", fold32, METH_O, "fold32(data) -> bytes: the runtime's simple_shake256_256"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fold", "C fold32 of RVF witness chains", -1, methods};

PyMODINIT_FUNC PyInit__fold(void) { return PyModule_Create(&module); }
