-- name: resolver-check
-- kind: query
-- description: How the tree-sitter lock resolver (lock_sites) agrees with clang (clang_lock_sites, lima-index --compile-commands) on the files clang parsed: sites per category, with their share
-- param: file VARCHAR null  Only files whose path contains this text
-- empty-when: NOT EXISTS (SELECT 1 FROM clang_files) | no file was parsed by clang: run lima-index SRC --compile-commands BUILD/compile_commands.json (bench/kbuild_compdb.sh makes one)
-- empty-when: NOT EXISTS (SELECT 1 FROM clang_files c JOIN files f ON f.file_id = c.file_id AND f.hash IS NOT DISTINCT FROM c.hash WHERE c.status IN ('parsed', 'errors')) | every file clang parsed changed since: run lima-index with --compile-commands again
-- empty-when: $file IS NOT NULL | no file clang parsed has a path containing '{file}'
-- empty: the files clang parsed have no lock primitive site on either side
--
-- One row per category of lima-query's layer resolver-pairs (its header explains the pairing):
-- agree, same-member, differ, ts-unresolved, clang-unresolved, both-unresolved, only-ts, only-clang, ts-macro-body;
-- share is of all rows (the figures bench/resolver_vs_clang.py prints). files: files with a site of the
-- category. The sites themselves: lima-query resolver-diff (--category CATEGORY).
WITH p AS (SELECT * FROM resolver_pairs(file := $file)),
cats(category, ord, meaning) AS (VALUES
    ('agree', 1, 'same object on both sides'),
    ('same-member', 1.5, 'same struct member, one side also names the global/per-CPU variable holding it'),
    ('differ', 2, 'both resolved, to different objects'),
    ('ts-unresolved', 3, 'clang resolved, tree-sitter said param/local/unknown/ambiguous'),
    ('clang-unresolved', 4, 'tree-sitter resolved, clang said param/local/unknown (callers, local values or a guess)'),
    ('both-unresolved', 5, 'neither resolved, answers differ'),
    ('only-ts', 6, 'no clang site there (compiled out, expands to no call, named otherwise)'),
    ('only-clang', 7, 'no tree-sitter site there'),
    ('ts-macro-body', 8, 'tree-sitter site in a #define body (clang sees it where the macro is used)')
),
n AS (SELECT p.category, count(*) AS sites, count(DISTINCT p.file_id) AS files FROM p GROUP BY p.category)
SELECT c.category, n.sites, round(100.0 * n.sites / sum(n.sites) OVER (), 2) AS share_pct, n.files,
       c.meaning
FROM cats c JOIN n ON n.category = c.category
ORDER BY c.ord
