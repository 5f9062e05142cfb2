; Parse problems counted per file (files.parse_errors); only run when the tree reports an error.
(ERROR) @error
(MISSING) @missing
