/*
 * ts_walk: one tree walk that returns what a simple tree-sitter query captures, several times faster than
 * the query cursor (the cursor keeps match states for every node; this only compares symbols).
 *
 * It answers the patterns of analyzer/c_facts.scm, compiled by analyzer/fast_captures.py into a plain
 * table: each pattern is a node symbol (or ERROR, or MISSING) plus field constraints "a child in field F
 * whose symbol is one of S...", and a capture index. The result is the dict that
 * QueryCursor.captures(root) gives (capture name -> list of tree_sitter.Node), in document order.
 * Given the parsed text of an ASCII file, it builds during the same walk what extract.py would make of the
 * calls, declarations, function definitions, structs and function-pointer stores instead (tuples that
 * extract.py finishes). Beside the walk: the #define rows of a file's raw text (define_rows; for a worker's
 * whole batch, straight into Arrow buffers: define_columns), the file-scope items top_level reads (top_level_items), and the kernel annotations blanked before parsing
 * (blank_annotations). Each restates Python code of extract.py or kernel_annotations.py exactly; the tests
 * of tests/test_fast_captures.py and bench/facts_digest.py on the full tree compare the two.
 *
 * It runs on the trees that py-tree-sitter builds: it reads the TSNode inside a tree_sitter.Node and makes
 * new tree_sitter.Node objects the way the binding does. That relies on the binding's object layout and on
 * this module's copy of the tree-sitter runtime being the binding's own release: build_ts_walk.py compiles
 * it from the sdist of the installed tree-sitter, records that version, and fast_captures.py refuses a
 * mismatch and checks the layout before use.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "tree_sitter/api.h"
/* the runtime's own headers (its sdist's lib/src): the walk reads subtrees as tree_cursor.c does */
#include "language.h"
#include "length.h"
#include "subtree.h"
#include "tree.h"
#include "tree_cursor.h"

#if !defined(LIMA_TS_VERSION) || !defined(LIMA_TS_SOURCE)
#error "build with -DLIMA_TS_VERSION=\"x.y.z\" (the tree-sitter release compiled in) -DLIMA_TS_SOURCE=\"digest\""
#endif

/* py-tree-sitter's Node object (tree_sitter/binding/types.h of the same release). */
typedef struct {
    PyObject_HEAD
    TSNode node;
    PyObject *children;
    PyObject *tree;
} PyTSNode;

#define MAX_PATTERNS 64
#define MAX_CONSTRAINTS 4
#define MAX_ALTS 8
#define SYM_ERROR 0xFFFF   /* ts_builtin_sym_error */
#define SYM_MISSING -2     /* the (MISSING) pattern: any missing node */

typedef struct {
    int field;                  /* field id */
    int alt_count;
    int alts[MAX_ALTS];         /* symbols the child in that field may have */
} Constraint;

typedef struct {
    int symbol;                 /* node symbol, SYM_ERROR or SYM_MISSING */
    int capture;                /* index into the capture names */
    int constraint_count;
    Constraint constraints[MAX_CONSTRAINTS];
} Pattern;

static int
parse_int_seq(PyObject *seq, int *out, int max, const char *what)
{
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > max) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "%s: at most %d items", what, max);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
        out[i] = (int)v;
    }
    Py_DECREF(fast);
    return (int)n;
}

/* patterns: sequence of (symbol, capture, ((field, (sym, ...)), ...)) */
static int
parse_patterns(PyObject *spec, Pattern *pats)
{
    PyObject *fast = PySequence_Fast(spec, "patterns must be a sequence");
    if (fast == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > MAX_PATTERNS) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "at most %d patterns", MAX_PATTERNS);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cons;
        Pattern *p = &pats[i];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iiO;pattern: (symbol, capture, constraints)",
                              &p->symbol, &p->capture, &cons)) {
            Py_DECREF(fast);
            return -1;
        }
        PyObject *cfast = PySequence_Fast(cons, "constraints must be a sequence");
        if (cfast == NULL) {
            Py_DECREF(fast);
            return -1;
        }
        Py_ssize_t m = PySequence_Fast_GET_SIZE(cfast);
        if (m > MAX_CONSTRAINTS) {
            Py_DECREF(cfast);
            Py_DECREF(fast);
            PyErr_Format(PyExc_ValueError, "at most %d field constraints per pattern", MAX_CONSTRAINTS);
            return -1;
        }
        p->constraint_count = (int)m;
        for (Py_ssize_t j = 0; j < m; j++) {
            PyObject *alts;
            Constraint *c = &p->constraints[j];
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(cfast, j), "iO;constraint: (field, symbols)",
                                  &c->field, &alts) ||
                (c->alt_count = parse_int_seq(alts, c->alts, MAX_ALTS, "symbols")) < 0) {
                Py_DECREF(cfast);
                Py_DECREF(fast);
                return -1;
            }
        }
        Py_DECREF(cfast);
    }
    Py_DECREF(fast);
    return (int)n;
}

/* One child as a query's child step sees it (tree_cursor.c's ts_tree_cursor_current_status). */
typedef struct {
    TSFieldId field;
    TSSymbol symbol;
    bool later_same_field;      /* the parent's production can have a later child in this field */
} Kid;

/* Can constraints J.. of P match at children FROM.. (as query.c's states advance over siblings)? A child in
 * the constraint's field that does not match ends the wait unless a later child can have that field. */
static int
match_from(const Pattern *p, int j, const Kid *kids, uint32_t n, uint32_t from)
{
    if (j == p->constraint_count)
        return 1;
    const Constraint *c = &p->constraints[j];
    for (uint32_t i = from; i < n; i++) {
        if (kids[i].field != c->field)
            continue;
        for (int k = 0; k < c->alt_count; k++) {
            if (c->alts[k] == (int)kids[i].symbol) {
                if (match_from(p, j + 1, kids, n, i + 1))
                    return 1;
                break;
            }
        }
        if (!kids[i].later_same_field)
            return 0;
    }
    return 0;
}

/* Do NODE's children hold P's field constraints, as a query's child steps would match them? */
static int
constraints_hold(TSTreeCursor *cur, TSNode node, const Pattern *p)
{
    if (p->constraint_count == 0)
        return 1;
    Kid stack[64], *kids = stack;
    uint32_t n = 0, cap = 64;
    int rc = 0;
    ts_tree_cursor_reset(cur, node);
    for (int more = ts_tree_cursor_goto_first_child(cur); more; more = ts_tree_cursor_goto_next_sibling(cur)) {
        if (n == cap) {
            Kid *bigger = PyMem_Malloc(2 * cap * sizeof *bigger);
            if (bigger == NULL)
                goto done;      /* no memory: no match (the caller's list stays short, never wrong) */
            memcpy(bigger, kids, n * sizeof *kids);
            if (kids != stack)
                PyMem_Free(kids);
            kids = bigger;
            cap *= 2;
        }
        bool later, later_named, later_same_field;
        TSSymbol supertypes[8];
        unsigned supertype_count = 8;
        Kid *k = &kids[n++];
        ts_tree_cursor_current_status(cur, &k->field, &later, &later_named, &later_same_field, supertypes,
                                      &supertype_count);
        k->later_same_field = later_same_field;
        k->symbol = ts_node_symbol(ts_tree_cursor_current_node(cur));
    }
    rc = match_from(p, 0, kids, n, 0);
done:
    if (kids != stack)
        PyMem_Free(kids);
    return rc;
}

static PyObject *
new_node(PyTSNode *like, TSNode node)
{
    PyTSNode *self = PyObject_New(PyTSNode, Py_TYPE(like));
    if (self == NULL)
        return NULL;
    self->node = node;
    self->children = NULL;
    Py_INCREF(like->tree);
    self->tree = like->tree;
    return (PyObject *)self;
}


/* ---- call rows (analyzer/extract.py's _FileExtraction.call, for files that are all ASCII) ---------- */

/* str.split()'s whitespace on ASCII text */
static inline int
is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* A growing text (the files are ASCII: bytes are characters). */
typedef struct {
    char *p;
    Py_ssize_t n, cap;
    char stack[256];
} Buf;

static void
buf_init(Buf *b)
{
    b->p = b->stack;
    b->n = 0;
    b->cap = sizeof b->stack;
}

static void
buf_free(Buf *b)
{
    if (b->p != b->stack)
        PyMem_Free(b->p);
}

static int
buf_reserve(Buf *b, Py_ssize_t more)
{
    if (b->n + more <= b->cap)
        return 0;
    Py_ssize_t cap = 2 * (b->n + more);
    char *p = PyMem_Malloc(cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(p, b->p, b->n);
    buf_free(b);
    b->p = p;
    b->cap = cap;
    return 0;
}

static int
buf_put(Buf *b, const char *s, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

static int
buf_repeat(Buf *b, char c, int times)
{
    if (buf_reserve(b, times) < 0)
        return -1;
    memset(b->p + b->n, c, times);
    b->n += times;
    return 0;
}

/* " ".join(s[a:z].split()) appended */
static int
buf_collapse(Buf *b, const char *s, Py_ssize_t a, Py_ssize_t z)
{
    if (buf_reserve(b, z - a) < 0)
        return -1;
    Py_ssize_t start = b->n;
    for (Py_ssize_t i = a; i < z;) {
        while (i < z && is_space((unsigned char)s[i]))
            i++;
        if (i == z)
            break;
        if (b->n > start)
            b->p[b->n++] = ' ';
        while (i < z && !is_space((unsigned char)s[i]))
            b->p[b->n++] = s[i++];
    }
    return 0;
}

static PyObject *
buf_str(Buf *b)
{
    return PyUnicode_FromStringAndSize(b->n ? b->p : "", b->n);
}

/* " ".join(s[a:b].split()) */
static PyObject *
collapse(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    Buf buf;
    buf_init(&buf);
    PyObject *out = buf_collapse(&buf, s, a, b) < 0 ? NULL : buf_str(&buf);
    buf_free(&buf);
    return out;
}

static int
has_run_or_break(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++) {
        char c = s[i];
        if (c == '\n' || c == '\t' || (c == ' ' && i + 1 < b && s[i + 1] == ' '))
            return 1;
    }
    return 0;
}

/* extract.py's ftext: collapsed only when it holds "  ", a newline or a tab */
static PyObject *
ftext(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    if (has_run_or_break(s, a, b))
        return collapse(s, a, b);
    return PyUnicode_FromStringAndSize(s + a, b - a);
}

/* Does extract.py's fold collapse s[a:b]? ftext's test, or a blank at either end */
static int
fold_collapses(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    return (b > a && (s[a] == ' ' || s[b - 1] == ' ')) || has_run_or_break(s, a, b);
}

/* extract.py's fold */
static PyObject *
fold(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    if (fold_collapses(s, a, b))
        return collapse(s, a, b);
    return PyUnicode_FromStringAndSize(s + a, b - a);
}

static int
type_is(TSNode n, const char *name)
{
    return strcmp(ts_node_type(n), name) == 0;
}

static int
append_new(PyObject *list, PyObject *item)
{
    if (item == NULL)
        return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* extract.py's grouped_args: argument texts split at the commas of an argument list with errors */
static int
grouped_args(const char *s, TSNode args, PyObject *out)
{
    int64_t first = -1, last = 0;
    TSTreeCursor kids = ts_tree_cursor_new(args);   /* ts_node_child(args, i) walks from the first child */
    int more = ts_tree_cursor_goto_first_child(&kids);
    for (; more; more = ts_tree_cursor_goto_next_sibling(&kids)) {
        TSNode c = ts_tree_cursor_current_node(&kids);
        const char *t = ts_node_type(c);
        if (strcmp(t, ",") == 0 || strcmp(t, ")") == 0) {
            if (first >= 0) {
                if (append_new(out, fold(s, first, last)) < 0)
                    break;
            } else if (t[0] == ',') {
                if (append_new(out, PyUnicode_FromStringAndSize("", 0)) < 0)
                    break;
            }
            first = -1;
        } else if (strcmp(t, "(") != 0 && strcmp(t, "comment") != 0) {
            if (first < 0)
                first = ts_node_start_byte(c);
            last = ts_node_end_byte(c);
        }
    }
    ts_tree_cursor_delete(&kids);
    return more ? -1 : 0;   /* stopped early: an error */
}

static int
all_blank(const char *s, Py_ssize_t a, Py_ssize_t b)   /* bytes.strip() leaves nothing */
{
    for (Py_ssize_t i = a; i < b; i++)
        if (!(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
            return 0;
    return 1;
}

/* pieces between the commas of s[a:b], each through FN (collapse or fold) */
static int
comma_pieces(const char *s, Py_ssize_t a, Py_ssize_t b, PyObject *(*fn)(const char *, Py_ssize_t, Py_ssize_t),
             PyObject *out)
{
    if (all_blank(s, a, b))
        return 0;
    Py_ssize_t start = a;
    for (Py_ssize_t i = a; i <= b; i++) {
        if (i == b || s[i] == ',') {
            if (append_new(out, fn(s, start, i)) < 0)
                return -1;
            start = i + 1;
        }
    }
    return 0;
}

static PyObject *
argument_texts(const char *s, TSNode args)
{
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    int rc = 0;
    Py_ssize_t a = ts_node_start_byte(args) + 1, b = ts_node_end_byte(args) - 1;
    if (ts_node_has_error(args)) {
        rc = grouped_args(s, args, out);
    } else {
        int nested = 0, odd = 0;
        for (Py_ssize_t i = a; i < b; i++) {
            char c = s[i];
            if (c == '(' || c == '[' || c == '{' || c == '"' || c == '\'' || c == '/' || c == '#')
                nested = 1;
            else if (c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f))
                odd = 1;
        }
        if (!nested && !odd) {
            rc = comma_pieces(s, a, b, collapse, out);
        } else if (!nested) {
            rc = comma_pieces(s, a, b, fold, out);
        } else {
            TSTreeCursor kids = ts_tree_cursor_new(args);
            for (int more = ts_tree_cursor_goto_first_child(&kids); more && rc == 0;
                 more = ts_tree_cursor_goto_next_sibling(&kids)) {
                TSNode c = ts_tree_cursor_current_node(&kids);
                if (ts_node_is_named(c) && !type_is(c, "comment"))
                    rc = append_new(out, ftext(s, ts_node_start_byte(c), ts_node_end_byte(c)));
            }
            ts_tree_cursor_delete(&kids);
        }
    }
    if (rc < 0)
        Py_CLEAR(out);
    return out;
}

typedef struct {
    TSFieldId function, arguments, field;
} CallFields;

/* (start_byte, callee, kind, callee_expr, line, col, args) of a call_expression, kind None for a call
 * through a plain name (direct or through a pointer variable: the caller's names decide, in Python);
 * Py_None when the node lacks its function or arguments (no row). */
static PyObject *
call_row(const char *s, TSNode n, const CallFields *fl)
{
    TSNode fn, args;
    if (ts_node_child_count(n) == 2 && type_is(ts_node_child(n, 1), "argument_list")) {
        fn = ts_node_child(n, 0);
        args = ts_node_child(n, 1);
    } else {
        fn = ts_node_child_by_field_id(n, fl->function);
        args = ts_node_child_by_field_id(n, fl->arguments);
        if (ts_node_is_null(fn) || ts_node_is_null(args))
            Py_RETURN_NONE;
    }
    PyObject *expr = ftext(s, ts_node_start_byte(fn), ts_node_end_byte(fn));
    if (expr == NULL)
        return NULL;
    PyObject *callee = NULL;
    const char *kind = NULL;
    if (type_is(fn, "identifier")) {
        Py_INCREF(expr);
        callee = expr;
    } else {
        TSNode inner = fn;
        uint32_t k;
        while ((k = ts_node_named_child_count(inner)) != 0 &&
               (type_is(inner, "parenthesized_expression") || type_is(inner, "pointer_expression")))
            inner = ts_node_named_child(inner, k - 1);
        if (type_is(inner, "identifier")) {
            kind = "pointer";
            callee = PyUnicode_FromStringAndSize(s + ts_node_start_byte(inner),
                                                 ts_node_end_byte(inner) - ts_node_start_byte(inner));
        } else if (type_is(inner, "field_expression")) {
            kind = "field";
            TSNode fld = ts_node_child_by_field_id(inner, fl->field);
            if (ts_node_is_null(fld)) {
                Py_INCREF(Py_None);
                callee = Py_None;
            } else {
                callee = PyUnicode_FromStringAndSize(s + ts_node_start_byte(fld),
                                                     ts_node_end_byte(fld) - ts_node_start_byte(fld));
            }
        } else {
            kind = "expr";
            Py_INCREF(Py_None);
            callee = Py_None;
        }
        if (callee == NULL) {
            Py_DECREF(expr);
            return NULL;
        }
    }
    PyObject *argv = argument_texts(s, args);
    if (argv == NULL) {
        Py_DECREF(expr);
        Py_DECREF(callee);
        return NULL;
    }
    TSPoint p = ts_node_start_point(n);
    return Py_BuildValue("(INsNIIN)", ts_node_start_byte(n), callee, kind, expr, p.row + 1, p.column, argv);
}


/* ---- declaration and function rows (extract.py's declaration, emit_variable, function) ------------- */

typedef struct {
    TSFieldId type, declarator, value, parameters, size, body, name;
    TSFieldId designator, argument, operator_, left, right, field;
} DeclFields;

typedef struct {
    const Pattern *pats;
    int npat;
    PyObject **lists;
    unsigned long *seen_at;     /* the visit at which each capture last took a node */
    unsigned long visit;
    PyTSNode *root;
    const char *src;
    int call_capture, declaration_capture, function_capture, struct_capture, init_pair_capture,
        assign_capture;
    CallFields fields;
    DeclFields decl_fields;
    TSTreeCursor kids;          /* for constraints_hold */
    TSTreeCursor kids2;         /* for the row builders */
} Walk;

/* ftext(s[a:z]) appended */
static int
buf_ftext(Buf *b, const char *s, Py_ssize_t a, Py_ssize_t z)
{
    return has_run_or_break(s, a, z) ? buf_collapse(b, s, a, z) : buf_put(b, s + a, z - a);
}


static PyObject *
node_text(const char *s, TSNode n)
{
    return PyUnicode_FromStringAndSize(s + ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n));
}

static int
text_is(const char *s, TSNode n, const char *word)
{
    size_t len = strlen(word);
    return ts_node_end_byte(n) - ts_node_start_byte(n) == len && memcmp(s + ts_node_start_byte(n), word, len) == 0;
}

static int
is_name_type(TSNode n)   /* identifier, field_identifier or type_identifier */
{
    const char *t = ts_node_type(n);
    return strcmp(t, "identifier") == 0 || strcmp(t, "field_identifier") == 0 || strcmp(t, "type_identifier") == 0;
}

/* _anon_base appended: "struct foo" for a named definition, "struct" / "union" / "enum" for an anonymous one */
static int
buf_anon_base(Buf *b, const char *s, TSNode ty, const DeclFields *fl)
{
    const char *t = ts_node_type(ty);
    if (buf_put(b, t, strchr(t, '_') - t) < 0)
        return -1;
    TSNode name = ts_node_child_by_field_id(ty, fl->name);
    if (ts_node_is_null(name))
        return 0;
    if (buf_put(b, " ", 1) < 0)
        return -1;
    return buf_put(b, s + ts_node_start_byte(name), ts_node_end_byte(name) - ts_node_start_byte(name));
}

/* extract.py's type_prefix(decl, ty) appended: qualifiers and the type as written */
static int
buf_type_prefix(Buf *b, const char *s, TSNode decl, TSNode ty, const DeclFields *fl, TSTreeCursor *cur)
{
    if (ts_node_is_null(ty))
        return 0;
    const char *t = ts_node_type(ty);
    int anon = (strcmp(t, "struct_specifier") == 0 || strcmp(t, "union_specifier") == 0 ||
                strcmp(t, "enum_specifier") == 0) && !ts_node_is_null(ts_node_child_by_field_id(ty, fl->body));
    uint32_t ty_start = ts_node_start_byte(ty);
    int base_done = 0, words = 0, rc = 0;
    ts_tree_cursor_reset(cur, decl);
    for (int more = ts_tree_cursor_goto_first_child(cur); more && rc == 0; more = ts_tree_cursor_goto_next_sibling(cur)) {
        TSNode c = ts_tree_cursor_current_node(cur);
        const char *ct = ts_node_type(c);
        if (strcmp(ct, "type_qualifier") == 0) {
            /* the words in text order: qualifiers before the type, the type, qualifiers after it */
            if (!base_done && ts_node_start_byte(c) > ty_start) {
                base_done = 1;
                if (words++ && buf_put(b, " ", 1) < 0)
                    return -1;
                rc = anon ? buf_anon_base(b, s, ty, fl) : buf_ftext(b, s, ty_start, ts_node_end_byte(ty));
                if (rc < 0)
                    return -1;
            }
            if (words++ && buf_put(b, " ", 1) < 0)
                return -1;
            rc = buf_put(b, s + ts_node_start_byte(c), ts_node_end_byte(c) - ts_node_start_byte(c));
        } else if (ts_node_start_byte(c) > ty_start && strcmp(ct, "storage_class_specifier") != 0) {
            break;
        }
    }
    if (rc == 0 && !base_done) {
        if (words && buf_put(b, " ", 1) < 0)
            return -1;
        rc = anon ? buf_anon_base(b, s, ty, fl) : buf_ftext(b, s, ty_start, ts_node_end_byte(ty));
    }
    return rc;
}

/* What extract.py's unwrap gives for a declarator: name node, pointer depth, array dims, declarator tail. */
typedef struct {
    TSNode name;    /* null: no name (unwrap's None) */
    int depth;
    PyObject *dims; /* str or None */
    Buf tail;
} Unwrapped;

static void
unwrapped_free(Unwrapped *u)
{
    Py_CLEAR(u->dims);
    buf_free(&u->tail);
}

/* 0 (u filled; free it with unwrapped_free) or -1 with an exception */
static int
unwrap(const char *s, TSNode d, const DeclFields *fl, Unwrapped *u)
{
    int depth = 0, ret_depth = 0, has_params = 0;
    TSNode params = {0};
    PyObject *dims = NULL;
    buf_init(&u->tail);
    u->dims = NULL;
    u->name = (TSNode){0};
    u->depth = 0;
    TSNode n = d;
    while (!ts_node_is_null(n)) {
        const char *t = ts_node_type(n);
        if (is_name_type(n))
            break;
        if (strcmp(t, "pointer_declarator") == 0) {
            depth++;
            n = ts_node_child_by_field_id(n, fl->declarator);
        } else if (strcmp(t, "array_declarator") == 0) {
            TSNode size = ts_node_child_by_field_id(n, fl->size);
            Buf piece;
            buf_init(&piece);
            int rc = buf_put(&piece, "[", 1);
            if (rc == 0 && !ts_node_is_null(size))
                rc = buf_ftext(&piece, s, ts_node_start_byte(size), ts_node_end_byte(size));
            if (rc == 0)
                rc = buf_put(&piece, "]", 1);
            if (rc == 0 && dims == NULL && (dims = PyList_New(0)) == NULL)
                rc = -1;
            if (rc == 0)
                rc = append_new(dims, buf_str(&piece));
            buf_free(&piece);
            if (rc < 0)
                goto fail;
            n = ts_node_child_by_field_id(n, fl->declarator);
        } else if (strcmp(t, "function_declarator") == 0) {
            if (!has_params) {
                has_params = 1;
                params = ts_node_child_by_field_id(n, fl->parameters);
                ret_depth = depth;
                depth = 0;
            }
            n = ts_node_child_by_field_id(n, fl->declarator);
        } else if (strcmp(t, "parenthesized_declarator") == 0 || strcmp(t, "attributed_declarator") == 0 ||
                   strcmp(t, "init_declarator") == 0) {
            n = ts_node_named_child_count(n) ? ts_node_named_child(n, 0) : (TSNode){0};
        } else {
            n = (TSNode){0};
            break;
        }
    }
    if (ts_node_is_null(n)) {
        Py_XDECREF(dims);
        return 0;
    }
    u->name = n;
    if (dims != NULL) {
        PyObject *sep = PyUnicode_FromStringAndSize("", 0);
        if (sep == NULL || PyList_Reverse(dims) < 0) {
            Py_XDECREF(sep);
            goto fail;
        }
        u->dims = PyUnicode_Join(sep, dims);
        Py_DECREF(sep);
        Py_CLEAR(dims);
        if (u->dims == NULL)
            goto fail;
    } else {
        Py_INCREF(Py_None);
        u->dims = Py_None;
    }
    if (has_params) {
        u->depth = depth > 1 ? depth : 1;
        if (buf_put(&u->tail, " ", 1) < 0 || buf_repeat(&u->tail, '*', ret_depth) < 0 ||
            buf_put(&u->tail, "(", 1) < 0 || buf_repeat(&u->tail, '*', depth) < 0 || buf_put(&u->tail, ")", 1) < 0)
            goto fail;
        if (ts_node_is_null(params) ? buf_put(&u->tail, "()", 2) < 0
                                    : buf_ftext(&u->tail, s, ts_node_start_byte(params), ts_node_end_byte(params)) < 0)
            goto fail;
    } else {
        u->depth = depth;
        if (depth && (buf_put(&u->tail, " ", 1) < 0 || buf_repeat(&u->tail, '*', depth) < 0))
            goto fail;
    }
    return 0;
fail:
    Py_XDECREF(dims);
    unwrapped_free(u);
    return -1;
}

/* extract.py's _is_prototype: `int f(int)` (no variable) as opposed to `int (*fp)(int)` */
static int
is_prototype(TSNode d, const DeclFields *fl)
{
    for (;;) {
        const char *t = ts_node_type(d);
        if (strcmp(t, "function_declarator") == 0) {
            TSNode inner = ts_node_child_by_field_id(d, fl->declarator);
            return !ts_node_is_null(inner) && type_is(inner, "identifier");
        }
        if (strcmp(t, "pointer_declarator") != 0)
            return 0;
        d = ts_node_child_by_field_id(d, fl->declarator);
        if (ts_node_is_null(d))
            return 0;
    }
}

/* emit_variable's part of a declarator D: Py_None (no row) or (name, depth, dims, tail, init, line, is_proto);
 * with PREFIX (the declaration's type prefix) the tail comes prefixed, as a type_text. A name of no bytes (a
 * missing identifier) gives no row unless EMPTY_NAME_OK (fields does not check it, emit_variable does). */
static PyObject *
variable_of(const char *s, TSNode d, const DeclFields *fl, const Buf *prefix, int empty_name_ok)
{
    int proto = is_prototype(d, fl);
    PyObject *init = Py_None;
    if (type_is(d, "init_declarator")) {
        TSNode v = ts_node_child_by_field_id(d, fl->value);
        d = ts_node_child_by_field_id(d, fl->declarator);
        if (ts_node_is_null(d))
            Py_RETURN_NONE;
        if (!ts_node_is_null(v) && (init = ftext(s, ts_node_start_byte(v), ts_node_end_byte(v))) == NULL)
            return NULL;
    }
    Unwrapped u;
    if (unwrap(s, d, fl, &u) < 0) {
        if (init != Py_None)
            Py_DECREF(init);
        return NULL;
    }
    if (ts_node_is_null(u.name) || (!empty_name_ok && ts_node_end_byte(u.name) == ts_node_start_byte(u.name))) {
        if (init != Py_None)
            Py_DECREF(init);
        unwrapped_free(&u);
        Py_RETURN_NONE;
    }
    if (init == Py_None)
        Py_INCREF(Py_None);
    PyObject *tail;
    if (prefix != NULL) {
        Buf t;
        buf_init(&t);
        tail = buf_put(&t, prefix->p, prefix->n) < 0 || buf_put(&t, u.tail.p, u.tail.n) < 0 ? NULL : buf_str(&t);
        buf_free(&t);
    } else {
        tail = buf_str(&u.tail);
    }
    PyObject *row = tail == NULL ? NULL
        : Py_BuildValue("(NiONNIi)", node_text(s, u.name), u.depth, u.dims, tail, init,
                        ts_node_start_point(d).row + 1, proto);
    if (tail == NULL)
        Py_DECREF(init);
    unwrapped_free(&u);
    return row;
}

/* (start_byte, node, type_kind, first_declarator_parenthesized, is_static, is_extern, base,
 *  [(name, depth, dims, type_text, init, line, is_prototype), ...]) of a declaration, Py_None without a type.
 * type_kind: 1 type_identifier, 2 macro_type_specifier, 3 other; node: the declaration's Node where
 * extract.py's macro_declaration may read it (type_kind 2, or 1 with a parenthesized declarator), else None;
 * base: None when no declarator gives a row. */
static PyObject *
declaration_summary(Walk *w, TSNode n)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    TSNode ty = ts_node_child_by_field_id(n, fl->type);
    if (ts_node_is_null(ty))
        Py_RETURN_NONE;
    int kind = type_is(ty, "type_identifier") ? 1 : type_is(ty, "macro_type_specifier") ? 2 : 3;
    TSNode d0 = ts_node_child_by_field_id(n, fl->declarator);
    int d0_paren = !ts_node_is_null(d0) && type_is(d0, "parenthesized_declarator");
    int is_static = 0, is_extern = 0;
    TSTreeCursor *cur = &w->kids2;
    Buf prefix;
    buf_init(&prefix);
    PyObject *vars = NULL, *node = NULL, *base = NULL;
    if (buf_type_prefix(&prefix, s, n, ty, fl, cur) < 0 || (vars = PyList_New(0)) == NULL)
        goto fail;
    ts_tree_cursor_reset(cur, n);
    for (int more = ts_tree_cursor_goto_first_child(cur); more; more = ts_tree_cursor_goto_next_sibling(cur)) {
        TSNode c = ts_tree_cursor_current_node(cur);
        if (ts_tree_cursor_current_field_id(cur) == fl->declarator) {
            PyObject *v = variable_of(s, c, fl, &prefix, 0);
            if (v == NULL)
                goto fail;
            if (v == Py_None)
                Py_DECREF(v);
            else if (append_new(vars, v) < 0)
                goto fail;
        } else if (type_is(c, "storage_class_specifier")) {
            is_static |= text_is(s, c, "static");
            is_extern |= text_is(s, c, "extern");
        }
    }
    if (PyList_GET_SIZE(vars)) {
        if ((base = fold(s, ts_node_start_byte(ty), ts_node_end_byte(ty))) == NULL)
            goto fail;
    } else {
        Py_INCREF(Py_None);
        base = Py_None;
    }
    if (kind == 2 || (kind == 1 && d0_paren)) {
        if ((node = new_node(w->root, n)) == NULL)
            goto fail;
    } else {
        Py_INCREF(Py_None);
        node = Py_None;
    }
    buf_free(&prefix);
    return Py_BuildValue("(INiiOONN)", ts_node_start_byte(n), node, kind, d0_paren, is_static ? Py_True : Py_False,
                         is_extern ? Py_True : Py_False, base, vars);
fail:
    buf_free(&prefix);
    Py_XDECREF(base);
    Py_XDECREF(node);
    Py_XDECREF(vars);
    return NULL;
}

/* extract.py's _function_declarator */
static TSNode
function_declarator(TSNode d, const DeclFields *fl, int *depth)
{
    *depth = 0;
    while (!ts_node_is_null(d)) {
        const char *t = ts_node_type(d);
        if (strcmp(t, "function_declarator") == 0)
            return d;
        if (strcmp(t, "pointer_declarator") == 0) {
            ++*depth;
            d = ts_node_child_by_field_id(d, fl->declarator);
        } else if (strcmp(t, "parenthesized_declarator") == 0 || strcmp(t, "attributed_declarator") == 0) {
            d = ts_node_named_child_count(d) ? ts_node_named_child(d, 0) : (TSNode){0};
        } else {
            break;
        }
    }
    *depth = 0;
    return (TSNode){0};
}

/* A function_definition: (start_byte, end_byte, node) when its declarator holds no function declarator
 * (extract.py's function() reads the node: a macro-headed function or a misread block), (start_byte,
 * end_byte, None) when the declarator has no plain name (no row), else (start_byte, end_byte, None, name,
 * is_static, is_inline, return_type, start_line, end_line, body_start, params) with params
 * [(name, type_text, base, depth, dims, init, line), ...] as emit_variable makes them. */
static PyObject *
function_summary(Walk *w, TSNode n)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    uint32_t start = ts_node_start_byte(n), end = ts_node_end_byte(n);
    int ret_depth;
    TSNode fdecl = function_declarator(ts_node_child_by_field_id(n, fl->declarator), fl, &ret_depth);
    if (ts_node_is_null(fdecl))
        return Py_BuildValue("(IIN)", start, end, new_node(w->root, n));
    TSNode name = ts_node_child_by_field_id(fdecl, fl->declarator);
    while (!ts_node_is_null(name) && (type_is(name, "parenthesized_declarator") ||
                                      type_is(name, "attributed_declarator")))
        name = ts_node_named_child_count(name) ? ts_node_named_child(name, 0) : (TSNode){0};
    if (ts_node_is_null(name) || !type_is(name, "identifier"))
        return Py_BuildValue("(IIO)", start, end, Py_None);
    int is_static = 0, is_inline = 0;
    TSTreeCursor *cur = &w->kids2;
    ts_tree_cursor_reset(cur, n);
    for (int more = ts_tree_cursor_goto_first_child(cur); more; more = ts_tree_cursor_goto_next_sibling(cur)) {
        TSNode c = ts_tree_cursor_current_node(cur);
        if (type_is(c, "storage_class_specifier")) {
            is_static |= text_is(s, c, "static");
            is_inline |= text_is(s, c, "inline");
        }
    }
    Buf ret;
    buf_init(&ret);
    if (buf_type_prefix(&ret, s, n, ts_node_child_by_field_id(n, fl->type), fl, cur) < 0 ||
        (ret_depth && (buf_put(&ret, " ", 1) < 0 || buf_repeat(&ret, '*', ret_depth) < 0))) {
        buf_free(&ret);
        return NULL;
    }
    PyObject *ret_text = buf_str(&ret);
    buf_free(&ret);
    PyObject *params = ret_text == NULL ? NULL : PyList_New(0);
    if (params == NULL) {
        Py_XDECREF(ret_text);
        return NULL;
    }
    TSNode plist = ts_node_child_by_field_id(fdecl, fl->parameters);
    uint32_t count = ts_node_is_null(plist) ? 0 : ts_node_named_child_count(plist);
    for (uint32_t i = 0; i < count; i++) {
        TSNode p = ts_node_named_child(plist, i);
        if (!type_is(p, "parameter_declaration"))
            continue;
        TSNode pd = ts_node_child_by_field_id(p, fl->declarator), pty = ts_node_child_by_field_id(p, fl->type);
        if (ts_node_is_null(pd) || ts_node_is_null(pty))
            continue;
        Buf prefix;
        buf_init(&prefix);
        PyObject *v = buf_type_prefix(&prefix, s, p, pty, fl, cur) < 0 ? NULL : variable_of(s, pd, fl, &prefix, 0);
        buf_free(&prefix);
        PyObject *row = NULL;
        if (v == Py_None) {
            Py_DECREF(v);
            continue;
        }
        if (v != NULL) {   /* (name, depth, dims, type_text, init, line, proto) -> the param row's order */
            PyObject *base = fold(s, ts_node_start_byte(pty), ts_node_end_byte(pty));
            if (base != NULL)
                row = Py_BuildValue("(OONOOOO)", PyTuple_GET_ITEM(v, 0), PyTuple_GET_ITEM(v, 3), base,
                                    PyTuple_GET_ITEM(v, 1), PyTuple_GET_ITEM(v, 2), PyTuple_GET_ITEM(v, 4),
                                    PyTuple_GET_ITEM(v, 5));
            Py_DECREF(v);
        }
        if (append_new(params, row) < 0) {
            Py_DECREF(params);
            Py_DECREF(ret_text);
            return NULL;
        }
    }
    TSNode body = ts_node_child_by_field_id(n, fl->body);
    return Py_BuildValue("(IIONOONIIIN)", start, end, Py_None, node_text(s, name), is_static ? Py_True : Py_False,
                         is_inline ? Py_True : Py_False, ret_text,
                         ts_node_start_point(n).row + 1, ts_node_end_point(n).row + 1,
                         ts_node_is_null(body) ? end : ts_node_start_byte(body), params);
}

/* extract.py's _declarator_name: the name a declarator declares (down its declarator fields, else its first
 * named children), or a null node */
static TSNode
declarator_name(TSNode d, const DeclFields *fl)
{
    while (!ts_node_is_null(d) && !is_name_type(d)) {
        TSNode next = ts_node_child_by_field_id(d, fl->declarator);
        d = !ts_node_is_null(next) ? next : ts_node_named_child_count(d) ? ts_node_named_child(d, 0) : (TSNode){0};
    }
    return d;
}

/* ---- struct and union rows (extract.py's structs and fields) --------------------------------------- */

static int
is_preproc_block(TSNode n)   /* extract.py's _PREPROC_BLOCKS */
{
    static const char *const blocks[] = {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                                         "preproc_elifdef", "linkage_specification", "declaration_list"};
    const char *t = ts_node_type(n);
    for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
        if (strcmp(t, blocks[i]) == 0)
            return 1;
    return 0;
}

static int
is_struct_or_union(TSNode n)
{
    return type_is(n, "struct_specifier") || type_is(n, "union_specifier");
}

/* the bitfield clause's text after its ':', folded and stripped, or Py_None */
static PyObject *
bitfield_text(const char *s, TSNode fd)
{
    PyObject *bits = Py_None;
    Py_INCREF(bits);
    uint32_t count = ts_node_named_child_count(fd);
    for (uint32_t i = 0; i < count; i++) {
        TSNode c = ts_node_named_child(fd, i);
        if (!type_is(c, "bitfield_clause"))
            continue;
        Buf b;
        buf_init(&b);
        if (buf_ftext(&b, s, ts_node_start_byte(c), ts_node_end_byte(c)) < 0) {
            buf_free(&b);
            Py_DECREF(bits);
            return NULL;
        }
        Py_ssize_t x = b.n ? 1 : 0, y = b.n;
        while (x < y && is_space((unsigned char)b.p[x]))
            x++;
        while (y > x && is_space((unsigned char)b.p[y - 1]))
            y--;
        Py_DECREF(bits);
        bits = PyUnicode_FromStringAndSize(b.p + x, y - x);
        buf_free(&b);
        if (bits == NULL)
            return NULL;
    }
    return bits;
}

/* extract.py's fields: rows (position, name, type_text, base, depth, dims, bits, nested_start, line) of the
 * field declarations in BODY (through preprocessor blocks), nested_start the start byte of a struct or union
 * defined in place (-1 for none) */
static int field_declaration_rows(Walk *w, TSNode fd, int *pos, PyObject *out);

static int
field_rows(Walk *w, TSNode body, int *pos, PyObject *out)
{
    int rc = 0;
    TSTreeCursor kids = ts_tree_cursor_new(body);   /* ts_node_named_child(body, i) walks from the first */
    for (int more = ts_tree_cursor_goto_first_child(&kids); more && rc == 0;
         more = ts_tree_cursor_goto_next_sibling(&kids)) {
        TSNode fd = ts_tree_cursor_current_node(&kids);
        if (is_preproc_block(fd))
            rc = field_rows(w, fd, pos, out);
        else if (type_is(fd, "field_declaration"))
            rc = field_declaration_rows(w, fd, pos, out);
    }
    ts_tree_cursor_delete(&kids);
    return rc;
}

/* field_rows' rows of one field declaration */
static int
field_declaration_rows(Walk *w, TSNode fd, int *pos, PyObject *out)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    TSNode ty = ts_node_child_by_field_id(fd, fl->type);
    if (ts_node_is_null(ty))
        return 0;
    TSNode ty_body = ts_node_child_by_field_id(ty, fl->body);   /* a struct c_facts.scm captures */
    int nested = is_struct_or_union(ty) && !ts_node_is_null(ty_body) &&
                 type_is(ty_body, "field_declaration_list");
    long nested_start = nested ? (long)ts_node_start_byte(ty) : -1;
    Buf prefix, base;
    buf_init(&prefix);
    buf_init(&base);
    PyObject *base_text = NULL, *bits = NULL;
    int rc = buf_type_prefix(&prefix, s, fd, ty, fl, &w->kids2);
    if (rc == 0)
        rc = nested ? buf_anon_base(&base, s, ty, fl) : 0;
    if (rc == 0)
        base_text = nested ? buf_str(&base) : fold(s, ts_node_start_byte(ty), ts_node_end_byte(ty));
    if (base_text == NULL || (bits = bitfield_text(s, fd)) == NULL)
        rc = -1;
    int any = 0;
    uint32_t line = ts_node_start_point(fd).row + 1;
    TSTreeCursor *cur = &w->kids2;   /* variable_of uses no cursor */
    ts_tree_cursor_reset(cur, fd);
    for (int more = rc == 0 && ts_tree_cursor_goto_first_child(cur); more && rc == 0;
         more = ts_tree_cursor_goto_next_sibling(cur)) {
        if (ts_tree_cursor_current_field_id(cur) != fl->declarator)
            continue;
        any = 1;
        PyObject *v = variable_of(s, ts_tree_cursor_current_node(cur), fl, &prefix, 1);
        if (v == NULL) {
            rc = -1;
        } else if (v == Py_None) {
            Py_DECREF(v);
        } else {   /* (name, depth, dims, type_text, init, line, proto) */
            rc = append_new(out, Py_BuildValue("(iOOOOOOlO)", (*pos)++, PyTuple_GET_ITEM(v, 0),
                                               PyTuple_GET_ITEM(v, 3), base_text, PyTuple_GET_ITEM(v, 1),
                                               PyTuple_GET_ITEM(v, 2), bits, nested_start,
                                               PyTuple_GET_ITEM(v, 5)));
            Py_DECREF(v);
        }
    }
    if (rc == 0 && !any) {
        PyObject *type_text = buf_str(&prefix);
        rc = type_text == NULL ? -1
             : append_new(out, Py_BuildValue("(iONOiOOlI)", (*pos)++, Py_None, type_text, base_text, 0,
                                             Py_None, bits, nested_start, line));
    }
    Py_XDECREF(base_text);
    Py_XDECREF(bits);
    buf_free(&prefix);
    buf_free(&base);
    return rc < 0 ? -1 : 0;
}

/* (start_byte, name, kind, owner_start, parent_field, start_line, end_line, fields) of a struct or union
 * with a body: kind "struct" or "union"; owner_start the start byte of the struct or union whose member
 * declares it (-1 for none) and parent_field that member's name; fields as field_rows makes them. */
static PyObject *
struct_summary(Walk *w, TSNode n)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    long owner_start = -1;
    PyObject *parent_field = Py_None;
    Py_INCREF(parent_field);
    TSNode p = ts_node_parent(n);
    if (!ts_node_is_null(p) && type_is(p, "field_declaration")) {
        TSNode list = ts_node_parent(p);   /* extract.py's _owning_struct */
        while (!ts_node_is_null(list) && !type_is(list, "field_declaration_list"))
            list = is_preproc_block(list) ? ts_node_parent(list) : (TSNode){0};
        if (!ts_node_is_null(list)) {
            TSNode owner = ts_node_parent(list);
            if (!ts_node_is_null(owner))
                owner_start = ts_node_start_byte(owner);
        }
        TSNode d = declarator_name(ts_node_child_by_field_id(p, fl->declarator), fl);
        if (!ts_node_is_null(d)) {
            Py_DECREF(parent_field);
            if ((parent_field = node_text(s, d)) == NULL)
                return NULL;
        }
    }
    TSNode name = ts_node_child_by_field_id(n, fl->name);
    PyObject *name_text = ts_node_is_null(name) ? (Py_INCREF(Py_None), Py_None) : node_text(s, name);
    PyObject *fields = name_text == NULL ? NULL : PyList_New(0);
    int pos = 0;
    if (fields == NULL || field_rows(w, ts_node_child_by_field_id(n, fl->body), &pos, fields) < 0) {
        Py_XDECREF(name_text);
        Py_XDECREF(fields);
        Py_DECREF(parent_field);
        return NULL;
    }
    return Py_BuildValue("(INslNIIN)", ts_node_start_byte(n), name_text,
                         type_is(n, "struct_specifier") ? "struct" : "union", owner_start, parent_field,
                         ts_node_start_point(n).row + 1, ts_node_end_point(n).row + 1, fields);
}

/* ---- function-pointer stores (extract.py's init_pair and assign) -------------------------------------- */

/* The name a stored value gives (stored_function without its name checks): an identifier, or the identifier
 * under `&`; a null node otherwise. */
static TSNode
stored_name(TSNode v, const DeclFields *fl)
{
    if (type_is(v, "pointer_expression")) {
        TSNode arg = ts_node_child_by_field_id(v, fl->argument);
        if (!ts_node_is_null(arg))
            v = arg;
    }
    return type_is(v, "identifier") ? v : (TSNode){0};
}

/* (start_byte, function, field, struct_type, variable, line) of `.field = function` in an initializer, or
 * Py_None (no row whatever the function's name): extract.py's init_pair before its name checks. */
static PyObject *
init_pair_summary(Walk *w, TSNode n)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    TSNode desig = ts_node_child_by_field_id(n, fl->designator), value = ts_node_child_by_field_id(n, fl->value);
    if (ts_node_is_null(desig) || ts_node_is_null(value))
        Py_RETURN_NONE;
    int designators = 0;
    TSTreeCursor *cur = &w->kids2;
    ts_tree_cursor_reset(cur, n);
    for (int more = ts_tree_cursor_goto_first_child(cur); more; more = ts_tree_cursor_goto_next_sibling(cur))
        designators += ts_tree_cursor_current_field_id(cur) == fl->designator;
    TSNode fn = stored_name(value, fl);
    if (designators != 1 || ts_node_is_null(fn))
        Py_RETURN_NONE;
    uint32_t a = ts_node_start_byte(desig), b = ts_node_end_byte(desig);
    while (a < b && (s[a] == '.' || s[a] == ' ' || s[a] == '\t' || s[a] == '\n'))
        a++;
    /* climb the initializer lists to the declaration; a nested designator makes the struct unknown */
    TSNode p = ts_node_parent(n);
    int nested = 0;
    while (!ts_node_is_null(p) && type_is(p, "initializer_list")) {
        p = ts_node_parent(p);
        if (!ts_node_is_null(p) && type_is(p, "initializer_pair")) {
            nested = 1;
            p = ts_node_parent(p);
        }
    }
    PyObject *struct_type = Py_None, *variable = Py_None;
    Py_INCREF(struct_type);
    Py_INCREF(variable);
    if (!ts_node_is_null(p) && type_is(p, "init_declarator")) {
        TSNode d = declarator_name(ts_node_child_by_field_id(p, fl->declarator), fl);
        if (!ts_node_is_null(d)) {
            Py_DECREF(variable);
            if ((variable = node_text(s, d)) == NULL) {
                Py_DECREF(struct_type);
                return NULL;
            }
        }
        TSNode decl = ts_node_parent(p);
        TSNode ty = ts_node_is_null(decl) ? (TSNode){0} : ts_node_child_by_field_id(decl, fl->type);
        if (!ts_node_is_null(ty) && !nested && ts_node_is_null(ts_node_child_by_field_id(ty, fl->body))) {
            Py_DECREF(struct_type);
            if ((struct_type = fold(s, ts_node_start_byte(ty), ts_node_end_byte(ty))) == NULL) {
                Py_DECREF(variable);
                return NULL;
            }
        }
    }
    return Py_BuildValue("(INs#NNI)", ts_node_start_byte(n), node_text(s, fn), s + a, (Py_ssize_t)(b - a),
                         struct_type, variable, ts_node_start_point(n).row + 1);
}

/* (start_byte, function, field, variable, variable_is_identifier, line) of `x->field = function`, or Py_None
 * (no row whatever the function's name): extract.py's assign before its name checks. */
static PyObject *
assign_summary(Walk *w, TSNode n)
{
    const char *s = w->src;
    const DeclFields *fl = &w->decl_fields;
    TSNode op = ts_node_child_by_field_id(n, fl->operator_);
    if (!text_is(s, ts_node_is_null(op) ? n : op, "="))
        Py_RETURN_NONE;
    TSNode left = ts_node_child_by_field_id(n, fl->left), right = ts_node_child_by_field_id(n, fl->right);
    TSNode fn = ts_node_is_null(right) ? (TSNode){0} : stored_name(right, fl);
    if (ts_node_is_null(fn) || ts_node_is_null(left))
        Py_RETURN_NONE;
    TSNode fld = ts_node_child_by_field_id(left, fl->field), arg = ts_node_child_by_field_id(left, fl->argument);
    if (ts_node_is_null(fld) || ts_node_is_null(arg))
        Py_RETURN_NONE;
    return Py_BuildValue("(INNNOI)", ts_node_start_byte(n), node_text(s, fn), node_text(s, fld),
                         ftext(s, ts_node_start_byte(arg), ts_node_end_byte(arg)),
                         type_is(arg, "identifier") ? Py_True : Py_False, ts_node_start_point(n).row + 1);
}

PyDoc_STRVAR(captures_doc,
"captures(root, patterns, names, src=None, call_capture=-1, declaration_capture=-1, function_capture=-1,\n"
"         struct_capture=-1, init_pair_capture=-1, assign_capture=-1) -> dict\n\n"
"Walk the tree under ROOT (a tree_sitter.Node) once and return {name: [Node, ...]} in document order\n"
"for every pattern that matched, as QueryCursor.captures does for the same patterns.\n"
"PATTERNS: ((symbol, capture_index, ((field_id, (symbol, ...)), ...)), ...); symbol 65535 is ERROR,\n"
"-2 is MISSING. NAMES: the capture names, by index. With SRC (the parsed text, all ASCII), the nodes of\n"
"capture CALL_CAPTURE (call_expression nodes) come as call rows instead: (start_byte, callee, kind,\n"
"callee_expr, line, col, args), kind None for a call through a plain name; those of DECLARATION_CAPTURE,\n"
"FUNCTION_CAPTURE, STRUCT_CAPTURE, INIT_PAIR_CAPTURE and ASSIGN_CAPTURE as the summaries\n"
"declaration_summary, function_summary, struct_summary, init_pair_summary and assign_summary describe\n"
"(ts_walk.c).");


/* The captures of one visible node (SYM: its public symbol). */
static int
take(Walk *w, TSNode node, TSSymbol sym, int missing)
{
    w->visit++;
    for (int i = 0; i < w->npat; i++) {
        const Pattern *p = &w->pats[i];
        if (p->symbol == SYM_MISSING ? !missing : p->symbol != (int)sym)
            continue;
        if (w->seen_at[p->capture] == w->visit || !constraints_hold(&w->kids, node, p))
            continue;
        w->seen_at[p->capture] = w->visit;
        if (w->lists[p->capture] == NULL && (w->lists[p->capture] = PyList_New(0)) == NULL)
            return -1;
        PyObject *obj;
        if (w->src == NULL)
            obj = new_node(w->root, node);
        else if (p->capture == w->call_capture)
            obj = call_row(w->src, node, &w->fields);
        else if (p->capture == w->declaration_capture)
            obj = declaration_summary(w, node);
        else if (p->capture == w->function_capture)
            obj = function_summary(w, node);
        else if (p->capture == w->struct_capture)
            obj = struct_summary(w, node);
        else if (p->capture == w->init_pair_capture)
            obj = init_pair_summary(w, node);
        else if (p->capture == w->assign_capture)
            obj = assign_summary(w, node);
        else
            obj = new_node(w->root, node);
        if (obj == Py_None) {
            Py_DECREF(obj);
            continue;
        }
        if (append_new(w->lists[p->capture], obj) < 0)
            return -1;
    }
    return 0;
}

/* A subtree whose children are being visited, as tree-sitter's tree cursor keeps it (tree_cursor.c). */
typedef struct {
    Subtree parent;
    const TSSymbol *aliases;    /* the parent's production's alias sequence, or NULL */
    Length position;            /* where the next child starts */
    uint32_t child, structural; /* index of the next child, among all and among non-extra children */
} Frame;

/* Every node under the root in document order, as the tree cursor would visit them, without the cursor:
 * it walks the subtrees themselves (hidden ones too, whose children belong to the nearest visible node)
 * and builds a TSNode only for a visible node whose symbol some pattern names. */
static int
walk_subtrees(Walk *w)
{
    const TSTree *tree = w->root->node.tree;
    const TSLanguage *lang = tree->language;
    int wants_missing = 0;
    for (int i = 0; i < w->npat; i++)
        wants_missing |= w->pats[i].symbol == SYM_MISSING;
    size_t cap = 64, depth = 0;
    Frame *stack = PyMem_Malloc(cap * sizeof *stack);
    if (stack == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const Subtree *st = (const Subtree *)w->root->node.id;
    Length pos = {ts_node_start_byte(w->root->node), ts_node_start_point(w->root->node)};
    TSSymbol alias = (TSSymbol)w->root->node.context[3];   /* the start node's own alias, as ts_node__alias */
    int rc = 0;
    for (;;) {
        /* visit st */
        if (ts_subtree_visible(*st) || alias) {
            TSSymbol sym = ts_language_public_symbol(lang, alias ? alias : ts_subtree_symbol(*st));
            int missing = wants_missing && ts_subtree_missing(*st);
            int named = missing;
            for (int i = 0; i < w->npat && !named; i++)
                named = w->pats[i].symbol == (int)sym;
            if (named && take(w, ts_node_new(tree, st, pos, alias), sym, missing) < 0) {
                rc = -1;
                break;
            }
        }
        if (ts_subtree_child_count(*st) > 0) {
            if (depth == cap) {
                Frame *bigger = PyMem_Realloc(stack, 2 * cap * sizeof *stack);
                if (bigger == NULL) {
                    PyErr_NoMemory();
                    rc = -1;
                    break;
                }
                stack = bigger;
                cap *= 2;
            }
            stack[depth++] = (Frame){*st, ts_language_alias_sequence(lang, st->ptr->production_id), pos, 0, 0};
        }
        /* the next node: the next child of the innermost frame that has one left */
        while (depth > 0 && stack[depth - 1].child == stack[depth - 1].parent.ptr->child_count)
            depth--;
        if (depth == 0)
            break;
        Frame *f = &stack[depth - 1];
        const Subtree *children = ts_subtree_children(f->parent);
        st = &children[f->child];
        alias = 0;
        if (!ts_subtree_extra(*st)) {
            if (f->aliases)
                alias = f->aliases[f->structural];
            f->structural++;
        }
        pos = f->position;
        f->position = length_add(f->position, ts_subtree_size(*st));
        if (++f->child < f->parent.ptr->child_count)
            f->position = length_add(f->position, ts_subtree_padding(children[f->child]));
    }
    PyMem_Free(stack);
    return rc;
}

static PyObject *
captures(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *root_obj, *spec, *names, *src_obj = Py_None;
    int call_capture = -1, declaration_capture = -1, function_capture = -1, struct_capture = -1;
    int init_pair_capture = -1, assign_capture = -1;
    Pattern pats[MAX_PATTERNS];
    if (!PyArg_ParseTuple(args, "OOO!|Oiiiiii:captures", &root_obj, &spec, &PyTuple_Type, &names, &src_obj,
                          &call_capture, &declaration_capture, &function_capture, &struct_capture,
                          &init_pair_capture, &assign_capture))
        return NULL;
    const char *src = NULL;
    if (src_obj != Py_None) {
        if (!PyBytes_Check(src_obj)) {
            PyErr_SetString(PyExc_TypeError, "src must be bytes or None");
            return NULL;
        }
        src = PyBytes_AS_STRING(src_obj);
    }
    if (Py_TYPE(root_obj)->tp_basicsize != (Py_ssize_t)sizeof(PyTSNode) ||
        strcmp(Py_TYPE(root_obj)->tp_name, "tree_sitter.Node") != 0) {
        PyErr_SetString(PyExc_TypeError, "root must be a tree_sitter.Node of the release ts_walk was built for");
        return NULL;
    }
    int npat = parse_patterns(spec, pats);
    if (npat < 0)
        return NULL;
    Py_ssize_t ncap = PyTuple_GET_SIZE(names);
    if (ncap > MAX_PATTERNS) {
        PyErr_SetString(PyExc_ValueError, "too many capture names");
        return NULL;
    }
    for (int i = 0; i < npat; i++) {
        if (pats[i].capture < 0 || pats[i].capture >= ncap) {
            PyErr_SetString(PyExc_ValueError, "capture index out of range");
            return NULL;
        }
    }
    PyTSNode *root = (PyTSNode *)root_obj;
    if (src != NULL && ts_node_end_byte(root->node) > (uint32_t)PyBytes_GET_SIZE(src_obj)) {
        PyErr_SetString(PyExc_ValueError, "src is shorter than the tree");
        return NULL;
    }
    const TSLanguage *lang = ts_node_language(root->node);
    PyObject *lists[MAX_PATTERNS] = {0};
    unsigned long seen_at[MAX_PATTERNS] = {0};
    Walk w = {
        .pats = pats, .npat = npat, .lists = lists, .seen_at = seen_at, .visit = 0, .root = root,
        .src = src, .call_capture = call_capture, .declaration_capture = declaration_capture,
        .function_capture = function_capture, .struct_capture = struct_capture,
        .init_pair_capture = init_pair_capture, .assign_capture = assign_capture,
        .fields = {
            ts_language_field_id_for_name(lang, "function", 8),
            ts_language_field_id_for_name(lang, "arguments", 9),
            ts_language_field_id_for_name(lang, "field", 5),
        },
        .decl_fields = {
            ts_language_field_id_for_name(lang, "type", 4),
            ts_language_field_id_for_name(lang, "declarator", 10),
            ts_language_field_id_for_name(lang, "value", 5),
            ts_language_field_id_for_name(lang, "parameters", 10),
            ts_language_field_id_for_name(lang, "size", 4),
            ts_language_field_id_for_name(lang, "body", 4),
            ts_language_field_id_for_name(lang, "name", 4),
            ts_language_field_id_for_name(lang, "designator", 10),
            ts_language_field_id_for_name(lang, "argument", 8),
            ts_language_field_id_for_name(lang, "operator", 8),
            ts_language_field_id_for_name(lang, "left", 4),
            ts_language_field_id_for_name(lang, "right", 5),
            ts_language_field_id_for_name(lang, "field", 5),
        },
        .kids = ts_tree_cursor_new(root->node),
        .kids2 = ts_tree_cursor_new(root->node),
    };
    PyObject *result = NULL;
    if (walk_subtrees(&w) == 0 && (result = PyDict_New()) != NULL) {
        for (Py_ssize_t c = 0; c < ncap; c++) {
            if (lists[c] != NULL && PyDict_SetItem(result, PyTuple_GET_ITEM(names, c), lists[c]) < 0) {
                Py_CLEAR(result);
                break;
            }
        }
    }
    for (int c = 0; c < MAX_PATTERNS; c++)
        Py_XDECREF(lists[c]);
    ts_tree_cursor_delete(&w.kids);
    ts_tree_cursor_delete(&w.kids2);
    return result;
}

/* ---- #define rows (analyzer/extract.py's _FileExtraction.macros, for files that are all ASCII) ------- */

static inline int
is_word(unsigned char c)   /* \w of a bytes pattern */
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline int
is_bytes_space(unsigned char c)   /* bytes.strip()'s whitespace */
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* body.strip(), then collapsed when it holds "  " or a tab (a body with no backslash), appended */
static int
buf_plain_body(Buf *out, const char *s, Py_ssize_t a, Py_ssize_t b)
{
    while (a < b && is_bytes_space((unsigned char)s[a]))
        a++;
    while (b > a && is_bytes_space((unsigned char)s[b - 1]))
        b--;
    for (Py_ssize_t i = a; i < b; i++)
        if (s[i] == '\t' || (s[i] == ' ' && i + 1 < b && s[i + 1] == ' '))
            return buf_collapse(out, s, a, b);
    return buf_put(out, s + a, b - a);
}

/* fold(body with each backslash-newline (or backslash-CR-LF) made one blank), appended */
static int
buf_continued_body(Buf *out, const char *s, Py_ssize_t a, Py_ssize_t b)
{
    Buf joined;
    buf_init(&joined);
    if (buf_reserve(&joined, b - a) < 0)
        return -1;
    char *buf = joined.p;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = a; i < b;) {
        if (s[i] == '\\' && i + 1 < b && s[i + 1] == '\n') {
            buf[n++] = ' ';
            i += 2;
        } else if (s[i] == '\\' && i + 2 < b && s[i + 1] == '\r' && s[i + 2] == '\n') {
            buf[n++] = ' ';
            i += 3;
        } else {
            buf[n++] = s[i++];
        }
    }
    int rc = fold_collapses(buf, 0, n) ? buf_collapse(out, buf, 0, n) : buf_put(out, buf, n);
    buf_free(&joined);
    return rc;
}

/* The pieces of [p.strip() for p in s[a:b].split(",")], [] for one empty piece: calls piece(ctx, x, y)
 * for each, in order. */
static int
define_params_each(const char *s, Py_ssize_t a, Py_ssize_t b, int (*piece)(void *, const char *, Py_ssize_t),
                   void *ctx)
{
    Py_ssize_t x = a, y = b;
    while (x < y && is_space((unsigned char)s[x]))
        x++;
    if (x == y)
        return 0;   /* one empty piece: no parameters */
    for (Py_ssize_t start = a, i = a; i <= b; i++) {
        if (i < b && s[i] != ',')
            continue;
        x = start, y = i;
        while (x < y && is_space((unsigned char)s[x]))
            x++;
        while (y > x && is_space((unsigned char)s[y - 1]))
            y--;
        if (piece(ctx, s + x, y - x) < 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

static int
param_to_list(void *list, const char *s, Py_ssize_t n)
{
    return append_new((PyObject *)list, PyUnicode_FromStringAndSize(s, n));
}

/* One #define found by scan_defines: the name s[name_a:name_b], the parameter list s[params_a:params_b]
 * (params_a < 0: object-like), the body s[body_a:body_b] (continued: it has backslash continuations),
 * its first and last lines. */
typedef struct {
    const char *s;
    int fid;
    Py_ssize_t name_a, name_b, params_a, params_b, body_a, body_b;
    int continued;
    long line, end_line;
} Define;

/* Every `#define` of s[0:n] that only blanks precede on its line, in order, handed to emit(ctx, d): the
 * scan of extract.py's regex _DEFINE and _FileExtraction.macros. */
static int
scan_defines(const char *s, Py_ssize_t n, int fid, int (*emit)(void *, const Define *), void *ctx)
{
    Py_ssize_t i = 0, last = 0;
    long line = 1;
    while (i < n) {
        const char *hash = memchr(s + i, '#', n - i);
        if (hash == NULL)
            break;
        Py_ssize_t pos = hash - s, k = pos + 1;
        i = pos + 1;   /* where the search goes on if there is no match here */
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (n - k < 7 || memcmp(s + k, "define", 6) != 0 || (s[k + 6] != ' ' && s[k + 6] != '\t'))
            continue;
        k += 6;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == n || !is_word((unsigned char)s[k]))
            continue;
        Define d = {.s = s, .fid = fid, .name_a = k, .params_a = -1, .params_b = -1};
        while (k < n && is_word((unsigned char)s[k]))
            k++;
        d.name_b = k;
        if (k < n && s[k] == '(') {
            Py_ssize_t q = k + 1;
            while (q < n && s[q] != ')' && s[q] != '\n')
                q++;
            if (q < n && s[q] == ')') {
                d.params_a = k + 1;
                d.params_b = q;
                k = q + 1;
            }
        }
        d.body_a = k;
        while (k < n && s[k] != '\n') {
            if (s[k] == '\\') {
                if (k + 1 == n)
                    break;   /* a backslash with nothing after it ends the body */
                d.continued = 1;
                k += 2;
            } else {
                k++;
            }
        }
        d.body_b = k;
        i = k;   /* the search goes on after the match, taken or not */
        if (pos > 0 && s[pos - 1] != '\n') {   /* not at the start of its line: only blanks may precede */
            Py_ssize_t ls = pos;
            while (ls > 0 && s[ls - 1] != '\n')
                ls--;
            Py_ssize_t j = ls;
            while (j < pos && is_bytes_space((unsigned char)s[j]))
                j++;
            if (j < pos)
                continue;
        }
        for (const char *c = s + last; (c = memchr(c, '\n', s + pos - c)) != NULL; c++)
            line++;
        last = pos;
        long nl = 0;
        if (d.continued)
            for (Py_ssize_t j = d.body_a; j < d.body_b; j++)
                nl += s[j] == '\n';
        d.line = line;
        d.end_line = line + nl;
        if (emit(ctx, &d) < 0)
            return -1;
    }
    return 0;
}

PyDoc_STRVAR(define_rows_doc,
"define_rows(raw, file_id) -> list\n\n"
"The macros rows of RAW (a file's bytes, all ASCII): one (file_id, name, is_function_like, params, body,\n"
"line, end_line) per `#define` that only blanks precede on its line, as extract.py's regex _DEFINE and\n"
"_FileExtraction.macros make them.");

/* The body of D as _FileExtraction.macros makes it, appended to OUT. */
static int
buf_define_body(Buf *out, const Define *d)
{
    return d->continued ? buf_continued_body(out, d->s, d->body_a, d->body_b)
                        : buf_plain_body(out, d->s, d->body_a, d->body_b);
}

static int
emit_row(void *list, const Define *d)
{
    const char *s = d->s;
    Buf body;
    buf_init(&body);
    PyObject *text = buf_define_body(&body, d) < 0 ? NULL : buf_str(&body);
    buf_free(&body);
    if (text == NULL)
        return -1;
    PyObject *params;
    if (d->params_a < 0) {
        params = Py_None;
        Py_INCREF(params);
    } else if ((params = PyList_New(0)) == NULL ||
               define_params_each(s, d->params_a, d->params_b, param_to_list, params) < 0) {
        Py_XDECREF(params);
        Py_DECREF(text);
        return -1;
    }
    return append_new((PyObject *)list, Py_BuildValue("(is#ONNll)", d->fid, s + d->name_a, d->name_b - d->name_a,
                                                      d->params_a >= 0 ? Py_True : Py_False, params, text,
                                                      d->line, d->end_line));
}

static PyObject *
define_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    const char *s;
    Py_ssize_t n;
    int fid;
    if (!PyArg_ParseTuple(args, "y#i:define_rows", &s, &n, &fid))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out != NULL && scan_defines(s, n, fid, emit_row, out) < 0)
        Py_CLEAR(out);
    return out;
}

/* ---- the same rows as Arrow columns (define_columns) ---------------------------------------------- */

/* The macros table's columns as Arrow buffers: int32 values, bit-packed booleans and validity, int32
 * offsets into UTF-8 data, a list column's offsets into its child string column. */
typedef struct {
    Py_ssize_t n, items;
    Buf fid, name_off, name, is_fl, params_valid, params_off, item_off, item, body_off, body, line, end_line;
} MacroColumns;

static int
put_i32(Buf *b, long v)
{
    int32_t x = (int32_t)v;
    return buf_put(b, (const char *)&x, sizeof x);
}

static int
put_bit(Buf *b, Py_ssize_t i, int v)
{
    if (i % 8 == 0 && buf_repeat(b, 0, 1) < 0)
        return -1;
    if (v)
        b->p[i / 8] |= (char)(1 << (i % 8));
    return 0;
}

static int
param_to_column(void *ctx, const char *s, Py_ssize_t n)
{
    MacroColumns *c = ctx;
    c->items++;
    return buf_put(&c->item, s, n) < 0 || put_i32(&c->item_off, c->item.n) < 0 ? -1 : 0;
}

static int
emit_column(void *ctx, const Define *d)
{
    MacroColumns *c = ctx;
    const char *s = d->s;
    int like = d->params_a >= 0;
    if (put_i32(&c->fid, d->fid) < 0 || buf_put(&c->name, s + d->name_a, d->name_b - d->name_a) < 0 ||
        put_i32(&c->name_off, c->name.n) < 0 || put_bit(&c->is_fl, c->n, like) < 0 ||
        put_bit(&c->params_valid, c->n, like) < 0 ||
        (like && define_params_each(s, d->params_a, d->params_b, param_to_column, c) < 0) ||
        put_i32(&c->params_off, c->items) < 0 ||
        buf_define_body(&c->body, d) < 0 ||
        put_i32(&c->body_off, c->body.n) < 0 || put_i32(&c->line, d->line) < 0 ||
        put_i32(&c->end_line, d->end_line) < 0)
        return -1;
    c->n++;
    if (c->name.n > INT32_MAX || c->body.n > INT32_MAX || c->item.n > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "define_columns: more than 2 GiB of text in one column");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(define_columns_doc,
"define_columns(files) -> tuple\n\n"
"The macros rows of FILES, a list of (raw, file_id) (raw all ASCII), as define_rows makes them, in columns:\n"
"(n, items, file_id, name_offsets, name, is_function_like, params_validity, params_offsets,\n"
"param_offsets, param, body_offsets, body, line, end_line), each a bytes object holding an Arrow buffer\n"
"(int32 values and offsets, bit-packed booleans and validity); items counts the parameters.");

static PyObject *
define_columns(PyObject *Py_UNUSED(module), PyObject *files)
{
    if (!PyList_Check(files)) {
        PyErr_SetString(PyExc_TypeError, "define_columns: files must be a list of (bytes, int)");
        return NULL;
    }
    MacroColumns c = {0};
    Buf *bufs[] = {&c.fid, &c.name_off, &c.name, &c.is_fl, &c.params_valid, &c.params_off, &c.item_off,
                   &c.item, &c.body_off, &c.body, &c.line, &c.end_line};
    const int nbufs = (int)(sizeof bufs / sizeof bufs[0]);
    for (int b = 0; b < nbufs; b++)
        buf_init(bufs[b]);
    PyObject *out = NULL;
    if (put_i32(&c.name_off, 0) < 0 || put_i32(&c.params_off, 0) < 0 || put_i32(&c.item_off, 0) < 0 ||
        put_i32(&c.body_off, 0) < 0)
        goto done;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(files); k++) {
        const char *s;
        Py_ssize_t n;
        int fid;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(files, k), "y#i:define_columns", &s, &n, &fid) ||
            scan_defines(s, n, fid, emit_column, &c) < 0)
            goto done;
    }
    out = PyTuple_New(2 + nbufs);
    if (out == NULL)
        goto done;
    PyTuple_SET_ITEM(out, 0, PyLong_FromSsize_t(c.n));
    PyTuple_SET_ITEM(out, 1, PyLong_FromSsize_t(c.items));
    for (int b = 0; b < nbufs; b++) {
        PyObject *bytes = PyBytes_FromStringAndSize(bufs[b]->p, bufs[b]->n);
        if (bytes == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyTuple_SET_ITEM(out, 2 + b, bytes);
    }
done:
    for (int b = 0; b < nbufs; b++)
        buf_free(bufs[b]);
    return out;
}

/* ---- kernel annotations blanked (analyzer/kernel_annotations.py's blank_annotations) --------------- */

/* The tokens (set once by set_annotation_tokens, from kernel_annotations.py's lists), in a hash table. */
#define TOKEN_SLOTS 2048
enum { TOKEN_CALL = 1, TOKEN_INLINE, TOKEN_PLAIN };
static struct {
    char *text;
    Py_ssize_t len;
    int kind;
} token_slots[TOKEN_SLOTS];
static Py_ssize_t token_min_len, token_max_len;
static unsigned char token_first[256];   /* bytes some token starts with */
static unsigned char word_byte[256];     /* \w */

static size_t
token_hash(const char *s, Py_ssize_t n)
{
    size_t h = 1469598103934665603u;
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static int
token_kind(const char *s, Py_ssize_t n)
{
    if (n < token_min_len || n > token_max_len)
        return 0;
    for (size_t k = token_hash(s, n) % TOKEN_SLOTS;; k = (k + 1) % TOKEN_SLOTS) {
        if (token_slots[k].text == NULL)
            return 0;
        if (token_slots[k].len == n && memcmp(token_slots[k].text, s, n) == 0)
            return token_slots[k].kind;
    }
}

PyDoc_STRVAR(set_annotation_tokens_doc,
"set_annotation_tokens(call, inline, plain) -> None\n\n"
"The annotation tokens blank_annotations blanks (kernel_annotations.py's CALL_TOKENS, INLINE_TOKENS,\n"
"PLAIN_TOKENS): identifiers, each in one list.");

static PyObject *
set_annotation_tokens(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *lists[3];
    if (!PyArg_ParseTuple(args, "OOO:set_annotation_tokens", &lists[0], &lists[1], &lists[2]))
        return NULL;
    for (int k = 0; k < TOKEN_SLOTS; k++) {
        PyMem_Free(token_slots[k].text);
        token_slots[k].text = NULL;
    }
    token_min_len = PY_SSIZE_T_MAX;
    token_max_len = 0;
    memset(token_first, 0, sizeof token_first);
    for (int c = 0; c < 256; c++)
        word_byte[c] = (unsigned char)is_word((unsigned char)c);
    Py_ssize_t count = 0;
    for (int kind = 0; kind < 3; kind++) {
        PyObject *fast = PySequence_Fast(lists[kind], "tokens must be a sequence");
        if (fast == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
            Py_ssize_t n;
            const char *t = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(fast, i), &n);
            int word = t != NULL && n > 0;
            for (Py_ssize_t j = 0; word && j < n; j++)
                word = is_word((unsigned char)t[j]);
            if (!word || token_kind(t, n) || ++count > TOKEN_SLOTS / 2) {
                Py_DECREF(fast);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "tokens must be distinct identifiers, at most 1024");
                token_max_len = 0;   /* no half-made table: blank_annotations refuses to run */
                return NULL;
            }
            size_t k = token_hash(t, n) % TOKEN_SLOTS;
            while (token_slots[k].text != NULL)
                k = (k + 1) % TOKEN_SLOTS;
            if ((token_slots[k].text = PyMem_Malloc(n)) == NULL) {
                Py_DECREF(fast);
                token_max_len = 0;
                return PyErr_NoMemory();
            }
            memcpy(token_slots[k].text, t, n);
            token_slots[k].len = n;
            token_slots[k].kind = TOKEN_CALL + kind;
            token_first[(unsigned char)t[0]] = 1;
            if (n < token_min_len)
                token_min_len = n;
            if (n > token_max_len)
                token_max_len = n;
        }
        Py_DECREF(fast);
    }
    Py_RETURN_NONE;
}

/* End of `(...)` at S[OPEN], with parentheses nested at most four deep (kernel_annotations.py's _BALANCED),
 * or -1. */
static Py_ssize_t
balanced_end(const char *s, Py_ssize_t n, Py_ssize_t open)
{
    int depth = 0;
    for (Py_ssize_t k = open; k < n; k++) {
        if (s[k] == '(' && ++depth > 4)
            return -1;
        if (s[k] == ')' && --depth == 0)
            return k + 1;
    }
    return -1;
}

/* Does `#[ \t]*define[ \t]+` end at POS, starting at most 24 bytes before it (_DEFINED_HERE)? */
static int
defined_here(const char *s, Py_ssize_t pos)
{
    Py_ssize_t lo = pos >= 24 ? pos - 24 : 0, k = pos;
    while (k > lo && (s[k - 1] == ' ' || s[k - 1] == '\t'))
        k--;
    if (k == pos || k - lo < 7 || memcmp(s + k - 6, "define", 6) != 0)
        return 0;
    k -= 6;
    while (k > lo && (s[k - 1] == ' ' || s[k - 1] == '\t'))
        k--;
    return k > lo && s[k - 1] == '#';
}

PyDoc_STRVAR(blank_annotations_doc,
"blank_annotations(src) -> bytes\n\n"
"kernel_annotations.py's blank_annotations, for the tokens set_annotation_tokens set: every annotation\n"
"token not preceded by a word byte or '#' (a call token with its parenthesized arguments) replaced by\n"
"blanks of the same length, newlines kept; an inline token by `inline` and blanks; a token that a\n"
"#define defines kept. SRC itself when nothing is blanked.");

static PyObject *
blank_annotations(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "blank_annotations: src must be bytes");
        return NULL;
    }
    if (token_max_len == 0) {
        PyErr_SetString(PyExc_RuntimeError, "blank_annotations: set_annotation_tokens first");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg), i = 0;
    PyObject *out = NULL;
    while (i < n) {
        if (!word_byte[(unsigned char)s[i]]) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n && word_byte[(unsigned char)s[j]])
            j++;
        int kind = token_first[(unsigned char)s[i]] && (i == 0 || s[i - 1] != '#') ? token_kind(s + i, j - i) : 0;
        Py_ssize_t end = -1;
        if (kind == TOKEN_CALL) {
            Py_ssize_t k = j;
            while (k < n && (s[k] == ' ' || (s[k] >= '\t' && s[k] <= '\r')))
                k++;
            if (k < n && s[k] == '(')
                end = balanced_end(s, n, k);
        } else if (kind) {
            end = j;
        }
        if (end < 0 || defined_here(s, i)) {
            i = j;
            continue;
        }
        if (out == NULL && (out = PyBytes_FromStringAndSize(s, n)) == NULL)
            return NULL;
        char *o = PyBytes_AS_STRING(out);
        if (kind == TOKEN_INLINE) {
            memcpy(o + i, "inline", 6);
            memset(o + i + 6, ' ', end - i - 6);
        } else {
            for (Py_ssize_t k = i; k < end; k++)
                if (o[k] != '\n')
                    o[k] = ' ';
        }
        i = end;
    }
    if (out == NULL) {
        Py_INCREF(arg);
        out = arg;
    }
    return out;
}

/* ---- top-level items (extract.py's top_items and the items top_level reads) ------------------------- */

typedef struct {
    TSNode *items;
    size_t n, cap;
} Items;

/* extract.py's top_items: NODE's named children, those of preprocessor blocks and ERROR nodes in their place */
static int
flatten_items(TSNode node, Items *out)
{
    int rc = 0;
    TSTreeCursor kids = ts_tree_cursor_new(node);   /* ts_node_named_child(node, i) walks from the first */
    for (int more = ts_tree_cursor_goto_first_child(&kids); more && rc == 0;
         more = ts_tree_cursor_goto_next_sibling(&kids)) {
        TSNode c = ts_tree_cursor_current_node(&kids);
        if (!ts_node_is_named(c))
            continue;
        if (is_preproc_block(c) || type_is(c, "ERROR")) {
            rc = flatten_items(c, out);
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 256;
            TSNode *bigger = PyMem_Realloc(out->items, cap * sizeof *bigger);
            if (bigger == NULL) {
                PyErr_NoMemory();
                rc = -1;
                break;
            }
            out->items = bigger;
            out->cap = cap;
        }
        out->items[out->n++] = c;
    }
    ts_tree_cursor_delete(&kids);
    return rc;
}

PyDoc_STRVAR(top_level_items_doc,
"top_level_items(root) -> list\n\n"
"The file-scope items (extract.py's top_items) that extract.py's top_level may record something for, as\n"
"(node, next) with NEXT the following item when it is a compound_statement (else None): expression\n"
"statements and call expressions, declarations whose type is a macro_type_specifier or a type_identifier\n"
"followed by a parenthesized declarator, and bare macro_type_specifiers. The other items top_level skips.");

static PyObject *
top_level_items(PyObject *Py_UNUSED(module), PyObject *root_obj)
{
    if (Py_TYPE(root_obj)->tp_basicsize != (Py_ssize_t)sizeof(PyTSNode) ||
        strcmp(Py_TYPE(root_obj)->tp_name, "tree_sitter.Node") != 0) {
        PyErr_SetString(PyExc_TypeError, "root must be a tree_sitter.Node of the release ts_walk was built for");
        return NULL;
    }
    PyTSNode *root = (PyTSNode *)root_obj;
    const TSLanguage *lang = ts_node_language(root->node);
    TSFieldId f_type = ts_language_field_id_for_name(lang, "type", 4);
    TSFieldId f_declarator = ts_language_field_id_for_name(lang, "declarator", 10);
    Items items = {0};
    PyObject *out = PyList_New(0);
    if (out == NULL || flatten_items(root->node, &items) < 0)
        goto fail;
    for (size_t i = 0; i < items.n; i++) {
        TSNode n = items.items[i];
        const char *t = ts_node_type(n);
        int take = 0;
        if (strcmp(t, "expression_statement") == 0 || strcmp(t, "call_expression") == 0 ||
            strcmp(t, "macro_type_specifier") == 0) {
            take = 1;
        } else if (strcmp(t, "declaration") == 0) {
            TSNode ty = ts_node_child_by_field_id(n, f_type);
            if (!ts_node_is_null(ty) && type_is(ty, "macro_type_specifier")) {
                take = 1;
            } else if (!ts_node_is_null(ty) && type_is(ty, "type_identifier")) {
                TSNode d = ts_node_child_by_field_id(n, f_declarator);
                take = !ts_node_is_null(d) && type_is(d, "parenthesized_declarator");
            }
        }
        if (!take)
            continue;
        PyObject *next = Py_None;
        if (i + 1 < items.n && type_is(items.items[i + 1], "compound_statement")) {
            if ((next = new_node(root, items.items[i + 1])) == NULL)
                goto fail;
        } else {
            Py_INCREF(next);
        }
        if (append_new(out, Py_BuildValue("(NN)", new_node(root, n), next)) < 0)
            goto fail;
    }
    PyMem_Free(items.items);
    return out;
fail:
    PyMem_Free(items.items);
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"captures", captures, METH_VARARGS, captures_doc},
    {"define_rows", define_rows, METH_VARARGS, define_rows_doc},
    {"define_columns", define_columns, METH_O, define_columns_doc},
    {"set_annotation_tokens", set_annotation_tokens, METH_VARARGS, set_annotation_tokens_doc},
    {"blank_annotations", blank_annotations, METH_O, blank_annotations_doc},
    {"top_level_items", top_level_items, METH_O, top_level_items_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ts_walk",
    .m_doc = "A one-pass tree walk answering simple tree-sitter patterns (see analyzer/ts_walk.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__ts_walk(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddStringConstant(m, "TREE_SITTER_VERSION", LIMA_TS_VERSION) < 0 ||
                      PyModule_AddStringConstant(m, "SOURCE_DIGEST", LIMA_TS_SOURCE) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
