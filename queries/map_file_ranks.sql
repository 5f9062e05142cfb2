-- name: map_file_ranks
-- kind: layer
-- description: Each indexed file's path rank (1 = core kernel code ... 9 = tools/): which of several same-named definitions or init sites to show first
-- param: arch VARCHAR alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|x86|xtensa x86  Architecture whose arch/ tree ranks with the generic code (others rank after drivers)
--
-- The ranking is the data below: a file takes the rank of the FIRST rule (lowest ord) whose pattern
-- starts its path ({arch} stands for --arch; top_only: the file is directly in that folder); no
-- rule: rank 8. Lower is better; rule_order (the rule's ord) orders the files of one rank the way the
-- rules list them (kernel/ before mm/ before fs/*), rank_rule shows the rule. Used by lock-name (which
-- object a lockdep name most likely is: worker_pool in kernel/workqueue.c before i915's pool) and
-- struct-locks (which definition of a struct name with several describes the kernel: x86's thread_struct,
-- not s390's; never the copies under tools/ unless nothing else defines it).
-- built / not_built / build_reason: the kernel configuration's verdict on a .c file (kbuild_files: its
-- makefile compiles it or leaves it out; NULL for headers, or when --arch is not the architecture the
-- configuration builds, meta kbuild_arch). The queries above put not_built files after every other,
-- before path_rank: a driver this configuration leaves out is not what a trace of it came from.
--   rank 1  core: kernel/ mm/ block/ ipc/ lib/ init/ include/linux/ net/core/, and the files directly in
--           fs/ (the VFS: fs/inode.c, fs/namei.c)
--   rank 2  the chosen arch/{arch}/ (x86 by default)
--   rank 3  other generic headers (include/net, include/asm-generic, include/uapi, ...)
--   rank 4  other generic code: filesystems fs/<name>/, protocols net/<name>/, security/, crypto/, virt/,
--           io_uring/, certs/
--   rank 5  drivers/ and sound/
--   rank 6  every other arch/
--   rank 9  tools/, samples/, scripts/, Documentation/, usr/ (userspace copies and helpers)
WITH rules(ord, prefix, top_only, rank) AS (  -- top_only: files directly in the folder, not below it
    VALUES (1, 'tools/', false, 9), (2, 'samples/', false, 9), (3, 'scripts/', false, 9),
           (4, 'Documentation/', false, 9), (5, 'usr/', false, 9),
           (10, 'kernel/', false, 1), (11, 'mm/', false, 1), (12, 'fs/', true, 1),
           (13, 'include/linux/', false, 1), (14, 'block/', false, 1), (15, 'net/core/', false, 1),
           (16, 'ipc/', false, 1), (17, 'lib/', false, 1), (18, 'init/', false, 1),
           (20, 'arch/{arch}/', false, 2),
           (30, 'include/', false, 3),
           (40, 'fs/', false, 4), (41, 'net/', false, 4), (42, 'security/', false, 4), (43, 'crypto/', false, 4),
           (44, 'virt/', false, 4), (45, 'io_uring/', false, 4), (46, 'certs/', false, 4),
           (50, 'drivers/', false, 5), (51, 'sound/', false, 5),
           (60, 'arch/', false, 6)
),
r AS (SELECT rules.* REPLACE (replace(rules.prefix, '{arch}', coalesce($arch, 'x86')) AS prefix) FROM rules),
kb AS (  -- the kernel configuration's verdict on each .c file, for the architecture it builds only
    SELECT k.file_id, k.built, k.reason
    FROM kbuild_files k
    WHERE coalesce($arch, 'x86') = (SELECT value FROM meta WHERE key = 'kbuild_arch')
)
SELECT f.file_id, f.path,
       coalesce(min_by(r.rank, r.ord), 8) AS path_rank,
       coalesce(min(r.ord), 1000) AS rule_order,
       min_by(r.prefix || CASE WHEN r.top_only THEN '*' ELSE '' END, r.ord) AS rank_rule,
       any_value(kb.built) AS built,
       coalesce(any_value(kb.built) = false, false) AS not_built,
       any_value(kb.reason) AS build_reason
FROM files f
LEFT JOIN r ON starts_with(f.path, r.prefix)
           AND (NOT r.top_only OR NOT contains(substr(f.path, length(r.prefix) + 1), '/'))
LEFT JOIN kb ON kb.file_id = f.file_id
GROUP BY f.file_id, f.path
