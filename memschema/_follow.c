/* memschema._follow: the chain of records that state their own size (memschema/sized_records.py),
 * followed in C.  Same arguments and result as sized_records.follow_py, which stays the fallback
 * (a property test checks both agree): a journal of 20,000 frames costs one pass over its heads
 * instead of 20,000 Python iterations.  Reads only inside [start, end) of the buffer. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

static uint64_t
read_length(const unsigned char *p, Py_ssize_t size, int big)
{
    uint64_t v = 0;
    for (Py_ssize_t i = 0; i < size; i++)
        v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
    return v;
}

/* follow(data, start, end, count, head, length_at, length_size, big_endian, consts)
 * count < 0: no limit; consts: tuple of (offset, bytes).  Returns (offsets as int64 bytes, stop). */
static PyObject *
follow(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    Py_ssize_t start, end, count, head, length_at, length_size;
    int big;
    PyObject *consts;
    if (!PyArg_ParseTuple(args, "y*nnnnnnpO!", &buf, &start, &end, &count, &head, &length_at, &length_size,
                          &big, &PyTuple_Type, &consts))
        return NULL;
    Py_ssize_t nconst = PyTuple_GET_SIZE(consts);
    Py_ssize_t *const_at = NULL;
    const char **const_bytes = NULL;
    Py_ssize_t *const_len = NULL;
    PyObject *out = NULL;
    int64_t *offsets = NULL;
    Py_ssize_t n = 0, cap = 1024;
    if (end > buf.len || start < 0 || head <= 0 || length_size < 1 || length_size > 8
            || length_at < 0 || length_at + length_size > head) {
        PyErr_SetString(PyExc_ValueError, "follow: bad plan or span");
        goto done;
    }
    const_at = PyMem_Calloc(nconst + 1, sizeof(Py_ssize_t));
    const_len = PyMem_Calloc(nconst + 1, sizeof(Py_ssize_t));
    const_bytes = PyMem_Calloc(nconst + 1, sizeof(char *));
    offsets = PyMem_Malloc(cap * sizeof(int64_t));
    if (!const_at || !const_len || !const_bytes || !offsets) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nconst; k++) {
        PyObject *item = PyTuple_GET_ITEM(consts, k);
        PyObject *value;
        if (!PyArg_ParseTuple(item, "nS", &const_at[k], &value))
            goto done;
        const_bytes[k] = PyBytes_AS_STRING(value);
        const_len[k] = PyBytes_GET_SIZE(value);
        if (const_at[k] < 0 || const_at[k] + const_len[k] > head) {
            PyErr_SetString(PyExc_ValueError, "follow: a Const outside the head");
            goto done;
        }
    }
    const unsigned char *data = buf.buf;
    Py_ssize_t at = start;
    while (at <= end - head && (count < 0 || n < count)) {
        int ok = 1;
        for (Py_ssize_t k = 0; k < nconst && ok; k++)
            ok = memcmp(data + at + const_at[k], const_bytes[k], const_len[k]) == 0;
        if (!ok)
            break;
        uint64_t length = read_length(data + at + length_at, length_size, big);
        if (length > (uint64_t)(end - at - head))
            break;
        if (n == cap) {
            int64_t *more = PyMem_Realloc(offsets, 2 * cap * sizeof(int64_t));
            if (!more) {
                PyErr_NoMemory();
                goto done;
            }
            offsets = more;
            cap *= 2;
        }
        offsets[n++] = at;
        at += head + (Py_ssize_t)length;
    }
    out = Py_BuildValue("(y#n)", (const char *)offsets, n * (Py_ssize_t)sizeof(int64_t), at);
done:
    PyMem_Free(offsets);
    PyMem_Free(const_at);
    PyMem_Free(const_len);
    PyMem_Free(const_bytes);
    PyBuffer_Release(&buf);
    return out;
}

static PyMethodDef methods[] = {
    {"follow", follow, METH_VARARGS, "Offsets of the records of a size-stating chain, and where it stopped."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_follow", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__follow(void)
{
    return PyModule_Create(&module);
}
