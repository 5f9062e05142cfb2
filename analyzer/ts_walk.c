/*
 * ts_walk: one tree walk that returns what a simple tree-sitter query captures, several times faster than
 * the query cursor (the cursor keeps match states for every node; this only compares symbols).
 *
 * It answers the patterns of analyzer/c_facts.scm, compiled by analyzer/fast_captures.py into a plain
 * table: each pattern is a node symbol (or ERROR, or MISSING) plus field constraints "a child in field F
 * whose symbol is one of S...", and a capture index. The result is the dict that
 * QueryCursor.captures(root) gives (capture name -> list of tree_sitter.Node), in document order.
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

/* " ".join(s[a:b].split()) */
static PyObject *
collapse(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    char stack[256];
    char *buf = b - a <= (Py_ssize_t)sizeof stack ? stack : PyMem_Malloc(b - a);
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t n = 0;
    for (Py_ssize_t i = a; i < b;) {
        while (i < b && is_space((unsigned char)s[i]))
            i++;
        if (i == b)
            break;
        if (n)
            buf[n++] = ' ';
        while (i < b && !is_space((unsigned char)s[i]))
            buf[n++] = s[i++];
    }
    PyObject *out = PyUnicode_FromStringAndSize(n ? buf : "", n);
    if (buf != stack)
        PyMem_Free(buf);
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

/* extract.py's fold: ftext's test, or a blank at either end */
static PyObject *
fold(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    if (b > a && (s[a] == ' ' || s[b - 1] == ' '))
        return collapse(s, a, b);
    return ftext(s, a, b);
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

PyDoc_STRVAR(captures_doc,
"captures(root, patterns, names, src=None, call_capture=-1) -> dict\n\n"
"Walk the tree under ROOT (a tree_sitter.Node) once and return {name: [Node, ...]} in document order\n"
"for every pattern that matched, as QueryCursor.captures does for the same patterns.\n"
"PATTERNS: ((symbol, capture_index, ((field_id, (symbol, ...)), ...)), ...); symbol 65535 is ERROR,\n"
"-2 is MISSING. NAMES: the capture names, by index. With SRC (the parsed text, all ASCII), the nodes of\n"
"capture CALL_CAPTURE (call_expression nodes) come as call rows instead: (start_byte, callee, kind,\n"
"callee_expr, line, col, args), kind None for a call through a plain name.");

typedef struct {
    const Pattern *pats;
    int npat;
    PyObject **lists;
    unsigned long *seen_at;     /* the visit at which each capture last took a node */
    unsigned long visit;
    PyTSNode *root;
    const char *src;
    int call_capture;
    CallFields fields;
    TSTreeCursor kids;
} Walk;

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
        PyObject *obj = w->src != NULL && p->capture == w->call_capture ? call_row(w->src, node, &w->fields)
                                                                        : new_node(w->root, node);
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
    int call_capture = -1;
    Pattern pats[MAX_PATTERNS];
    if (!PyArg_ParseTuple(args, "OOO!|Oi:captures", &root_obj, &spec, &PyTuple_Type, &names, &src_obj,
                          &call_capture))
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
        .src = src, .call_capture = call_capture,
        .fields = {
            ts_language_field_id_for_name(lang, "function", 8),
            ts_language_field_id_for_name(lang, "arguments", 9),
            ts_language_field_id_for_name(lang, "field", 5),
        },
        .kids = ts_tree_cursor_new(root->node),
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

/* body.strip(), then collapsed when it holds "  " or a tab (a body with no backslash) */
static PyObject *
plain_body(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    while (a < b && is_bytes_space((unsigned char)s[a]))
        a++;
    while (b > a && is_bytes_space((unsigned char)s[b - 1]))
        b--;
    for (Py_ssize_t i = a; i < b; i++)
        if (s[i] == '\t' || (s[i] == ' ' && i + 1 < b && s[i + 1] == ' '))
            return collapse(s, a, b);
    return PyUnicode_FromStringAndSize(s + a, b - a);
}

/* fold(body with each backslash-newline (or backslash-CR-LF) made one blank) */
static PyObject *
continued_body(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    char *buf = PyMem_Malloc(b - a + 1);
    if (buf == NULL)
        return PyErr_NoMemory();
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
    PyObject *out = fold(buf, 0, n);
    PyMem_Free(buf);
    return out;
}

/* [p.strip() for p in s[a:b].split(",")], [] for one empty piece */
static PyObject *
define_params(const char *s, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t start = a, i = a; i <= b; i++) {
        if (i < b && s[i] != ',')
            continue;
        Py_ssize_t x = start, y = i;
        while (x < y && is_space((unsigned char)s[x]))
            x++;
        while (y > x && is_space((unsigned char)s[y - 1]))
            y--;
        if (append_new(out, PyUnicode_FromStringAndSize(s + x, y - x)) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        start = i + 1;
    }
    if (PyList_GET_SIZE(out) == 1 && PyUnicode_GET_LENGTH(PyList_GET_ITEM(out, 0)) == 0)
        PyList_SetSlice(out, 0, 1, NULL);
    return out;
}

PyDoc_STRVAR(define_rows_doc,
"define_rows(raw, file_id) -> list\n\n"
"The macros rows of RAW (a file's bytes, all ASCII): one (file_id, name, is_function_like, params, body,\n"
"line, end_line) per `#define` that only blanks precede on its line, as extract.py's regex _DEFINE and\n"
"_FileExtraction.macros make them.");

static PyObject *
define_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    const char *s;
    Py_ssize_t n;
    int fid;
    if (!PyArg_ParseTuple(args, "y#i:define_rows", &s, &n, &fid))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
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
        Py_ssize_t name_a = k;
        while (k < n && is_word((unsigned char)s[k]))
            k++;
        Py_ssize_t name_b = k, params_a = -1, params_b = -1;
        if (k < n && s[k] == '(') {
            Py_ssize_t q = k + 1;
            while (q < n && s[q] != ')' && s[q] != '\n')
                q++;
            if (q < n && s[q] == ')') {
                params_a = k + 1;
                params_b = q;
                k = q + 1;
            }
        }
        Py_ssize_t body_a = k;
        int continued = 0;
        while (k < n && s[k] != '\n') {
            if (s[k] == '\\') {
                if (k + 1 == n)
                    break;   /* a backslash with nothing after it ends the body */
                continued = 1;
                k += 2;
            } else {
                k++;
            }
        }
        Py_ssize_t body_b = k;
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
        PyObject *body;
        if (continued) {
            for (Py_ssize_t j = body_a; j < body_b; j++)
                nl += s[j] == '\n';
            body = continued_body(s, body_a, body_b);
        } else {
            body = plain_body(s, body_a, body_b);
        }
        if (body == NULL)
            goto fail;
        PyObject *params = Py_None;
        if (params_a >= 0 && (params = define_params(s, params_a, params_b)) == NULL) {
            Py_DECREF(body);
            goto fail;
        }
        if (params == Py_None)
            Py_INCREF(Py_None);
        PyObject *row = Py_BuildValue("(is#ONNll)", fid, s + name_a, name_b - name_a,
                                      params_a >= 0 ? Py_True : Py_False, params, body, line, line + nl);
        if (append_new(out, row) < 0)
            goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"captures", captures, METH_VARARGS, captures_doc},
    {"define_rows", define_rows, METH_VARARGS, define_rows_doc},
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
