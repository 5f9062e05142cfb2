; tree-sitter-c patterns that lima-index runs over every parsed file (analyzer/extract.py reads the
; captures by name; the C query engine does the tree walk, Python only visits the captured nodes).

; Function definitions with a body.
(function_definition) @function

; Every call expression (direct, through a field, through a pointer, or anything else).
(call_expression) @call

; Declarations: file-scope variables and prototypes, locals and static locals.
(declaration) @declaration

; struct and union definitions that have a body (named or anonymous, at any nesting).
(struct_specifier body: (field_declaration_list)) @struct
(union_specifier body: (field_declaration_list)) @struct

(type_definition) @typedef

(enum_specifier body: (enumerator_list)) @enum

; Function pointers stored into fields: designated initializers (.read = foo) and assignments.
(initializer_pair designator: (field_designator) value: [(identifier) (pointer_expression)]) @init_pair
(assignment_expression left: (field_expression) right: [(identifier) (pointer_expression)]) @assign

; Parse problems, counted per file (files.parse_errors): in this query rather than a second one, so that
; files with errors are walked once.
(ERROR) @error
(MISSING) @missing
