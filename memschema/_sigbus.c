/* memschema._sigbus: a file that shrinks while memschema reads it through mmap must not kill the
 * process.  Reading a mapped page past the new end of a file raises SIGBUS; this module's handler,
 * for a fault inside a mapping memschema registered, maps an anonymous zero page over the faulting
 * page (mmap MAP_FIXED), counts the fault and returns, so the read is retried and sees zeros.  The
 * Python side (memschema/guard.py) checks the counts after each operation and reports the file as
 * changed.  Faults anywhere else go to the previous handler (or the default action) as if this
 * module were not there.  Optional: without it memschema reads files into memory instead. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 1024

typedef struct {
    volatile uintptr_t start;      /* 0 = free */
    volatile uintptr_t end;
    volatile long faults;
} slot_t;

static slot_t slots[SLOTS];
static volatile long total_faults;
static struct sigaction previous;
static volatile sig_atomic_t chaining;
static uintptr_t page_size;

static void
on_sigbus(int sig, siginfo_t *info, void *context)
{
    if (info != NULL && info->si_code > 0) {      /* raised by the kernel for a fault */
        uintptr_t addr = (uintptr_t)info->si_addr;
        for (int i = 0; i < SLOTS; i++) {
            uintptr_t start = slots[i].start, end = slots[i].end;
            if (start != 0 && addr >= start && addr < end) {
                void *page = (void *)(addr & ~(page_size - 1));
                if (mmap(page, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                        != MAP_FAILED) {
                    __atomic_add_fetch(&slots[i].faults, 1, __ATOMIC_SEQ_CST);
                    __atomic_add_fetch(&total_faults, 1, __ATOMIC_SEQ_CST);
                    return;
                }
                break;
            }
        }
    }
    if (!chaining) {                               /* not ours: what would have happened without us */
        chaining = 1;
        if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != NULL) {
            previous.sa_sigaction(sig, info, context);
            chaining = 0;
            return;
        }
        if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
            previous.sa_handler(sig);
            chaining = 0;
            return;
        }
    }
    /* default action: the faulting access is repeated on return and the process dies of it */
    signal(sig, SIG_DFL);
    if (info == NULL || info->si_code <= 0)
        raise(sig);
}

static int
is_installed(void)
{
    struct sigaction now;
    if (sigaction(SIGBUS, NULL, &now) != 0)
        return 0;
    return (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigbus;
}

static PyObject *
install(PyObject *self, PyObject *unused)
{
    if (is_installed())
        Py_RETURN_FALSE;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    struct sigaction before;
    if (sigaction(SIGBUS, &action, &before) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    previous = before;
    Py_RETURN_TRUE;
}

static PyObject *
register_buffer(PyObject *self, PyObject *obj)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) != 0)
        return NULL;
    uintptr_t start = (uintptr_t)view.buf, end = start + (uintptr_t)view.len;
    PyBuffer_Release(&view);
    if (start == 0 || end == start)
        return PyLong_FromLong(-1);
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].start == 0) {
            slots[i].faults = 0;
            slots[i].end = end;
            __atomic_store_n(&slots[i].start, start, __ATOMIC_SEQ_CST);
            return PyLong_FromLong(i);
        }
    }
    return PyLong_FromLong(-1);                    /* full: the mapping is unguarded */
}

static int
slot_arg(PyObject *arg, long *slot)
{
    *slot = PyLong_AsLong(arg);
    if (*slot == -1 && PyErr_Occurred())
        return 0;
    if (*slot < 0 || *slot >= SLOTS) {
        PyErr_SetString(PyExc_ValueError, "no such slot");
        return 0;
    }
    return 1;
}

static PyObject *
unregister(PyObject *self, PyObject *arg)
{
    long slot;
    if (!slot_arg(arg, &slot))
        return NULL;
    __atomic_store_n(&slots[slot].start, 0, __ATOMIC_SEQ_CST);
    slots[slot].end = 0;
    Py_RETURN_NONE;
}

static PyObject *
faults(PyObject *self, PyObject *arg)
{
    long slot;
    if (!slot_arg(arg, &slot))
        return NULL;
    return PyLong_FromLong(__atomic_load_n(&slots[slot].faults, __ATOMIC_SEQ_CST));
}

static PyObject *
total(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(__atomic_load_n(&total_faults, __ATOMIC_SEQ_CST));
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, "Install the SIGBUS handler (again, if another replaced it); True if it was not."},
    {"register", register_buffer, METH_O, "Guard a mapped buffer; returns its slot (-1: not guarded)."},
    {"unregister", unregister, METH_O, "Stop guarding a slot (before or as its mapping goes away)."},
    {"faults", faults, METH_O, "Faults caught in a slot's mapping since it was registered."},
    {"total", total, METH_NOARGS, "Faults caught in all guarded mappings since the module was loaded."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sigbus", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__sigbus(void)
{
    long size = sysconf(_SC_PAGESIZE);
    page_size = size > 0 ? (uintptr_t)size : 4096;
    return PyModule_Create(&module);
}
