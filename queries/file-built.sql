-- name: file-built
-- kind: query
-- description: Whether the kernel configuration compiles a .c file, and the makefile line that decides (kbuild_files)
-- param: path VARCHAR required  Files whose path contains this text (mm/slab, drivers/net/ethernet/intel/)
-- param: built VARCHAR yes|no|open null  Only files said built, not built, or left open
-- param: limit INTEGER >=1 200  Rows at most
-- empty-when: NOT EXISTS (SELECT 1 FROM kbuild_files) | no kbuild verdicts in this database: the indexed tree has no top-level Kbuild, or the lock pass has not run (lima-index without --no-lock-pass)
-- empty-when: NOT EXISTS (SELECT 1 FROM files f WHERE contains(f.path, $path)) | no indexed file's path contains '{path}'
-- empty: no .c file whose path contains '{path}' has such a verdict (headers have none: they are compiled where they are included)
--
-- The verdicts come from the lock pass reading the tree's Kbuild makefiles for the kernel configuration of
-- meta kconfig (analyzer/kbuild.py): built (compiled into the kernel or a module, or #included by such a
-- file), not built, or open (NULL: a lock-debugging option, which LIMA leaves open as for #if, decides).
-- reason is the makefile line: drivers/mailbox/Makefile:18: obj-$(CONFIG_PL320_MBOX) += pl320-ipc.o:
-- CONFIG_PL320_MBOX is not set. Lock sites in files not built have confidence at most 0.2.
SELECT f.path, k.built, k.reason, (SELECT m.value FROM meta m WHERE m.key = 'kconfig') AS kconfig
FROM kbuild_files k JOIN files f ON f.file_id = k.file_id
WHERE contains(f.path, $path)
  AND ($built IS NULL OR ($built = 'yes' AND k.built) OR ($built = 'no' AND NOT k.built)
       OR ($built = 'open' AND k.built IS NULL))
ORDER BY f.path
LIMIT $limit
