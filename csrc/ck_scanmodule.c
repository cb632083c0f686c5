/* consentkit._scan: the Python binding of ck_scan.c (see src/consentkit/_pyscan.py, its twin). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "ck_scan.h"

/* --- byte-string sequences ---------------------------------------------------------------- */

/* Borrow pointers and lengths of a sequence of bytes objects (kept alive by *keep). */
static int borrow_bytes(PyObject *items, const char *what, PyObject **keep, const uint8_t ***ptrs,
                        size_t **lens, Py_ssize_t *count) {
    PyObject *seq = PySequence_Fast(items, what);
    if (seq == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    *ptrs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(uint8_t *));
    *lens = PyMem_Calloc(n ? (size_t)n : 1, sizeof(size_t));
    if (*ptrs == NULL || *lens == NULL) {
        PyMem_Free(*ptrs);
        PyMem_Free(*lens);
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        if (!PyBytes_Check(item)) {
            PyMem_Free(*ptrs);
            PyMem_Free(*lens);
            Py_DECREF(seq);
            PyErr_Format(PyExc_TypeError, "%s: expected bytes, got %.100s", what, Py_TYPE(item)->tp_name);
            return -1;
        }
        (*ptrs)[k] = (const uint8_t *)PyBytes_AS_STRING(item);
        (*lens)[k] = (size_t)PyBytes_GET_SIZE(item);
    }
    *keep = seq;
    *count = n;
    return 0;
}

static void release_bytes(PyObject *keep, const uint8_t **ptrs, size_t *lens) {
    PyMem_Free(ptrs);
    PyMem_Free(lens);
    Py_XDECREF(keep);
}

static int init_error(int rc, const char *what) {
    if (rc == -2) {
        PyErr_NoMemory();
    } else {
        PyErr_Format(PyExc_ValueError, "invalid %s", what);
    }
    return -1;
}

/* --- Candidates ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    ck_cands cands;
    int ready;
    PyObject *islands; /* the Candidates object cands.islands points into (a reference) */
} CandidatesObject;

static PyTypeObject CandidatesType;

static int Candidates_init(CandidatesObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"starts", "ends", "any_tag", "all_starts_but", "islands", "quiet_scripts", NULL};
    PyObject *starts;
    PyObject *ends;
    int any_tag = 0;
    int all_starts_but = 0;
    PyObject *islands = Py_None;
    int quiet_scripts = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|ppOp:Candidates", kwlist, &starts, &ends, &any_tag,
                                     &all_starts_but, &islands, &quiet_scripts)) {
        return -1;
    }
    if (self->ready) {
        PyErr_SetString(PyExc_TypeError, "Candidates is immutable");
        return -1;
    }
    const ck_cands *island_cands = NULL;
    if (islands != Py_None) {
        if (!PyObject_TypeCheck(islands, &CandidatesType) || !((CandidatesObject *)islands)->ready) {
            PyErr_SetString(PyExc_TypeError, "islands must be a consentkit._scan.Candidates or None");
            return -1;
        }
        island_cands = &((CandidatesObject *)islands)->cands;
        if (island_cands->islands != NULL || island_cands->quiet_scripts) {
            PyErr_SetString(PyExc_ValueError, "islands: its own candidates cannot have islands");
            return -1;
        }
    }
    if (any_tag && all_starts_but) {
        PyErr_SetString(PyExc_ValueError, "any_tag and all_starts_but exclude each other");
        return -1;
    }
    if (any_tag) {
        /* every tag is a candidate: the name sets are not used */
        memset(&self->cands, 0, sizeof(self->cands));
        self->cands.any_tag = 1;
        self->cands.islands = island_cands;
        self->cands.quiet_scripts = quiet_scripts;
        Py_XINCREF(island_cands ? islands : NULL);
        self->islands = island_cands ? islands : NULL;
        self->ready = 2;
        return 0;
    }
    PyObject *keep_s = NULL;
    PyObject *keep_e = NULL;
    const uint8_t **ps = NULL;
    const uint8_t **pe = NULL;
    size_t *ls = NULL;
    size_t *le = NULL;
    Py_ssize_t ns = 0;
    Py_ssize_t ne = 0;
    int result = -1;
    if (borrow_bytes(starts, "starts", &keep_s, &ps, &ls, &ns) < 0) {
        return -1;
    }
    if (borrow_bytes(ends, "ends", &keep_e, &pe, &le, &ne) < 0) {
        release_bytes(keep_s, ps, ls);
        return -1;
    }
    int rc = ck_nameset_init(&self->cands.starts, (size_t)ns, ps, ls);
    if (rc != 0) {
        init_error(rc, "start tag name (names are non-empty, lower-case, start with a-z)");
        goto done;
    }
    rc = ck_nameset_init(&self->cands.ends, (size_t)ne, pe, le);
    if (rc != 0) {
        ck_nameset_free(&self->cands.starts);
        init_error(rc, "end tag name (names are non-empty, lower-case, start with a-z)");
        goto done;
    }
    self->cands.any_tag = 0;
    self->cands.all_starts_but = all_starts_but;
    self->cands.islands = island_cands;
    self->cands.quiet_scripts = quiet_scripts;
    if (island_cands != NULL) {
        Py_INCREF(islands);
        self->islands = islands;
    }
    self->ready = 1;
    result = 0;
done:
    release_bytes(keep_s, ps, ls);
    release_bytes(keep_e, pe, le);
    return result;
}

static void Candidates_dealloc(CandidatesObject *self) {
    if (self->ready == 1) {
        ck_nameset_free(&self->cands.starts);
        ck_nameset_free(&self->cands.ends);
    }
    Py_CLEAR(self->islands);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject CandidatesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentkit._scan.Candidates",
    .tp_basicsize = sizeof(CandidatesObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Candidates(starts, ends, any_tag=False, all_starts_but=False, islands=None, "
                        "quiet_scripts=False): the start and end tag names the scan stops at (with any_tag: "
                        "every tag; with all_starts_but: every start tag but those in starts); with islands "
                        "(Candidates without islands), inert inline SVGs are skipped whole; with "
                        "quiet_scripts, first-party external scripts (under NAMES_FILTERED and a filter)."),
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Candidates_init,
    .tp_dealloc = (destructor)Candidates_dealloc,
};

/* --- TagFilter ----------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    ck_filter filter;
    int ready;
} TagFilterObject;

static int TagFilter_init(TagFilterObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"needles", "stop_bytes", "exempt", NULL};
    PyObject *needles;
    Py_buffer stop = {0};
    PyObject *exempt = NULL;
    const char *empty = "";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|y*O:TagFilter", kwlist, &needles, &stop, &exempt)) {
        return -1;
    }
    if (self->ready) {
        PyBuffer_Release(&stop);
        PyErr_SetString(PyExc_TypeError, "TagFilter is immutable");
        return -1;
    }
    PyObject *keep = NULL;
    const uint8_t **ptrs = NULL;
    size_t *lens = NULL;
    Py_ssize_t count = 0;
    if (borrow_bytes(needles, "needles", &keep, &ptrs, &lens, &count) < 0) {
        PyBuffer_Release(&stop);
        return -1;
    }
    const uint8_t *stop_bytes = stop.buf ? (const uint8_t *)stop.buf : (const uint8_t *)empty;
    int rc = ck_filter_init(&self->filter, (size_t)count, ptrs, lens, stop_bytes, (size_t)stop.len);
    release_bytes(keep, ptrs, lens);
    PyBuffer_Release(&stop);
    if (rc != 0) {
        return init_error(rc, "needle (needles are non-empty bytes)");
    }
    if (exempt != NULL) {
        if (borrow_bytes(exempt, "exempt", &keep, &ptrs, &lens, &count) < 0) {
            ck_filter_free(&self->filter);
            return -1;
        }
        rc = ck_filter_exempt(&self->filter, (size_t)count, ptrs, lens);
        release_bytes(keep, ptrs, lens);
        if (rc != 0) {
            ck_filter_free(&self->filter);
            return init_error(rc, "exempt attribute name (names are non-empty, lower-case, start with a-z)");
        }
    }
    self->ready = 1;
    return 0;
}

static void TagFilter_dealloc(TagFilterObject *self) {
    if (self->ready) {
        ck_filter_free(&self->filter);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *TagFilter_hits(TagFilterObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "hits: expected bytes");
        return NULL;
    }
    if (!self->ready) {
        PyErr_SetString(PyExc_ValueError, "TagFilter not initialised");
        return NULL;
    }
    int hit = ck_filter_hits(&self->filter, (const uint8_t *)PyBytes_AS_STRING(arg),
                             (size_t)PyBytes_GET_SIZE(arg));
    return PyBool_FromLong(hit);
}

static PyMethodDef TagFilter_methods[] = {
    {"hits", (PyCFunction)TagFilter_hits, METH_O,
     PyDoc_STR("hits(value): whether an attribute value contains a needle or a stop byte.")},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TagFilterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "consentkit._scan.TagFilter",
    .tp_basicsize = sizeof(TagFilterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("TagFilter(needles, stop_bytes=b'', exempt=()): start tags whose attribute "
                        "values contain a needle (any case) or a stop byte become stops; the values of "
                        "attributes named in exempt are not looked at."),
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)TagFilter_init,
    .tp_dealloc = (destructor)TagFilter_dealloc,
    .tp_methods = TagFilter_methods,
};

/* --- advance -------------------------------------------------------------------------------- */

static PyObject *scan_advance(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "advance(buf, lbuf, i, cands, attention, tag_filter)");
        return NULL;
    }
    PyObject *buf = args[0];
    if (!PyBytes_Check(buf)) {
        PyErr_SetString(PyExc_TypeError, "advance: buf must be bytes");
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(args[2]);
    if (i == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(buf);
    if (i < 0 || i > n) {
        PyErr_SetString(PyExc_ValueError, "advance: position out of range");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[3], &CandidatesType) || !((CandidatesObject *)args[3])->ready) {
        PyErr_SetString(PyExc_TypeError, "advance: cands must be a consentkit._scan.Candidates");
        return NULL;
    }
    long attention = PyLong_AsLong(args[4]);
    if (attention == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (attention < CK_ATTENTION_NONE || attention > CK_ATTENTION_NAMES_FILTERED) {
        PyErr_SetString(PyExc_ValueError,
                        "advance: attention must be NONE, DATA_CONSENT, NAMES or NAMES_FILTERED");
        return NULL;
    }
    const ck_filter *filter = NULL;
    if (args[5] != Py_None) {
        if (!PyObject_TypeCheck(args[5], &TagFilterType) || !((TagFilterObject *)args[5])->ready) {
            PyErr_SetString(PyExc_TypeError, "advance: tag_filter must be a consentkit._scan.TagFilter or None");
            return NULL;
        }
        filter = &((TagFilterObject *)args[5])->filter;
    }
    int kind = CK_END;
    size_t stop = ck_advance((const uint8_t *)PyBytes_AS_STRING(buf), (size_t)n, (size_t)i,
                             &((CandidatesObject *)args[3])->cands, (int)attention, filter, &kind);
    return Py_BuildValue("(ni)", (Py_ssize_t)stop, kind);
}

static PyObject *scan_read_tag(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "read_tag(buf: bytes, k: int)");
        return NULL;
    }
    Py_ssize_t k = PyLong_AsSsize_t(args[1]);
    if (k == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(args[0]);
    if (k < 0 || k > n) {
        PyErr_SetString(PyExc_ValueError, "read_tag: position out of range");
        return NULL;
    }
    size_t name_end = 0;
    size_t end = ck_read_tag((const uint8_t *)PyBytes_AS_STRING(args[0]), (size_t)n, (size_t)k, &name_end);
    if (end == 0) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(nn)", (Py_ssize_t)end, (Py_ssize_t)name_end);
}

static PyMethodDef scan_methods[] = {
    {"read_tag", (PyCFunction)(void (*)(void))scan_read_tag, METH_FASTCALL,
     PyDoc_STR("read_tag(buf, k) -> (end, name_end) or None\n\n"
               "The tag at k read with the tokenizer's attribute quoting: where it ends and where "
               "its name ends; None when there is no complete tag at k.")},
    {"advance", (PyCFunction)(void (*)(void))scan_advance, METH_FASTCALL,
     PyDoc_STR("advance(buf, lbuf, i, cands, attention, tag_filter) -> (position, kind)\n\n"
               "From i, skip text and ordinary tags; return the first construct that matters "
               "(kind TAG or DECL), or (len(buf), END). lbuf is not read.")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "consentkit._scan",
    .m_doc = PyDoc_STR("consentkit's native tokenizer scan (C); its Python twin is consentkit._pyscan."),
    .m_size = -1,
    .m_methods = scan_methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&CandidatesType) < 0 || PyType_Ready(&TagFilterType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&scan_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&CandidatesType);
    Py_INCREF(&TagFilterType);
    if (PyModule_AddObject(m, "Candidates", (PyObject *)&CandidatesType) < 0 ||
        PyModule_AddObject(m, "TagFilter", (PyObject *)&TagFilterType) < 0 ||
        PyModule_AddIntConstant(m, "END", CK_END) < 0 || PyModule_AddIntConstant(m, "TAG", CK_TAG) < 0 ||
        PyModule_AddIntConstant(m, "DECL", CK_DECL) < 0 ||
        PyModule_AddIntConstant(m, "NONE", CK_ATTENTION_NONE) < 0 ||
        PyModule_AddIntConstant(m, "DATA_CONSENT", CK_ATTENTION_DATA_CONSENT) < 0 ||
        PyModule_AddIntConstant(m, "NAMES", CK_ATTENTION_NAMES) < 0 ||
        PyModule_AddIntConstant(m, "NAMES_FILTERED", CK_ATTENTION_NAMES_FILTERED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
