-- name: lock_event_objects
-- kind: layer
-- description: Every lock_events row with its run labels, its acquisition site and the kernel object it locks (the base of every aggregation)
-- param: uncached BOOLEAN null  Only runs not yet in the lock_object_counts cache (what refresh_mappings adds)
--
-- Which mapping decides, in order: a lockdep class name that one init site explains (lockdep-class);
-- a class name several init sites produce is settled by the stack's site when its object is one of
-- them, else stays ambiguous (the stack may belong to another lock of the same record); a global symbol at the lock address that global_locks knows (global-symbol; a symbol holding several
-- locks is settled by the stack's site when it names one of them); the stack's acquisition site
-- (stack-site); otherwise the best ambiguous answer; then an unresolved event, or an ambiguous one one of
-- whose candidates it is, takes the one object other events of the run resolved at its address and lock
-- type (same-address); otherwise, for a spinlock at the wait_lock offset of an rwsem or mutex resolved in
-- the same run, that lock's wait_lock (inner-lock); otherwise unresolved with every reason.
-- object_key is the grouping label of the aggregations: the object, else 'ambiguous(a | b)', else
-- 'unresolved <class name or site function or address>'. mode is the run's mode (coldstart/warmup);
-- lock_mode is read/write when known. event is contended | acquire | release (acquire when the source
-- does not say); the aggregations count every event but releases unless --event picks one kind.
WITH j0 AS (
    SELECT e.*, r.runtime, r.workload, r.mode AS run_mode, r.backend, r.duration_s,
           coalesce(sc.taken_in, sl.taken_in) AS taken_in,
           coalesce(sc.site_function, sl.site_function) AS st_site_function,
           coalesce(sc.site_file, sl.site_file) AS st_site_file,
           coalesce(sc.site_line, sl.site_line) AS st_site_line,
           coalesce(sc.object_kind, sl.object_kind) AS st_kind,
           coalesce(sc.struct_name, sl.struct_name) AS st_struct,
           coalesce(sc.field_path, sl.field_path) AS st_field,
           coalesce(sc.symbol, sl.symbol) AS st_symbol,
           coalesce(sc.object, sl.object) AS st_object,
           coalesce(sc.confidence, sl.confidence) AS st_conf,
           coalesce(sc.status, sl.status) AS st_status,
           coalesce(sc.method, sl.method) AS st_method,
           coalesce(sc.candidates, sl.candidates) AS st_cands,
           coalesce(sc.reason, sl.reason) AS st_reason,
           c.object_kind AS c_kind, c.struct_name AS c_struct, c.field_path AS c_field, c.symbol AS c_symbol,
           c.object AS c_object, c.confidence AS c_conf, c.status AS c_status, c.candidates AS c_cands,
           c.reason AS c_reason,
           y.object_kind AS y_kind, y.symbol AS y_symbol, y.field_path AS y_field, y.object AS y_object,
           y.confidence AS y_conf, y.status AS y_status, y.candidates AS y_cands, y.reason AS y_reason
    FROM (SELECT * FROM lock_events le
          WHERE NOT coalesce($uncached, false)
             OR le.run_id IN (SELECT r0.run_id FROM trace_runs r0
                              WHERE r0.run_id NOT IN (SELECT DISTINCT k.run_id FROM lock_object_counts k))) e
    JOIN trace_runs r ON r.run_id = e.run_id
    LEFT JOIN map_class_objects c ON c.lock_name = e.lock_name
    LEFT JOIN map_symbol_objects y ON y.lock_symbol = e.lock_symbol
    -- the cached mapping, and the live one for runs not cached yet (two joins, not a UNION: the planner
    -- then builds its hash tables on the mapping side, not on the millions of lock_events rows)
    LEFT JOIN stack_objects sc ON sc.run_id = e.run_id AND sc.stack_id = e.stack_id
    LEFT JOIN map_stack_objects sl ON sl.run_id = e.run_id AND sl.stack_id = e.stack_id
),
j AS (
    SELECT j0.*,
           CASE WHEN j0.c_status = 'resolved' THEN 'class'
                WHEN j0.c_status = 'ambiguous' AND j0.st_status = 'resolved'
                     AND list_contains(j0.c_cands, j0.st_object) THEN 'stack'
                WHEN j0.c_status = 'ambiguous' THEN 'class'
                WHEN j0.y_status = 'resolved' THEN 'symbol'
                WHEN j0.y_status = 'ambiguous' AND j0.st_status = 'resolved' AND j0.st_symbol = j0.y_symbol THEN 'stack'
                WHEN j0.st_status = 'resolved' THEN 'stack'
                WHEN j0.y_status = 'ambiguous' THEN 'symbol'
                WHEN j0.st_status = 'ambiguous' THEN 'stack'
                ELSE 'none' END AS src
    FROM j0
),
o AS (
    SELECT j.*,
           CASE j.src WHEN 'class' THEN j.c_kind WHEN 'symbol' THEN j.y_kind WHEN 'stack' THEN j.st_kind
                ELSE 'unresolved' END AS object_kind,
           CASE j.src WHEN 'class' THEN j.c_struct WHEN 'stack' THEN j.st_struct END AS "struct",
           CASE j.src WHEN 'class' THEN j.c_field WHEN 'symbol' THEN j.y_field WHEN 'stack' THEN j.st_field END AS field,
           CASE j.src WHEN 'class' THEN j.c_symbol WHEN 'symbol' THEN j.y_symbol WHEN 'stack' THEN j.st_symbol END AS symbol,
           CASE j.src WHEN 'class' THEN j.c_object WHEN 'symbol' THEN j.y_object WHEN 'stack' THEN j.st_object END AS object,
           CASE j.src WHEN 'class' THEN j.c_conf WHEN 'symbol' THEN j.y_conf WHEN 'stack' THEN j.st_conf
                ELSE 0.0 END AS confidence,
           CASE j.src WHEN 'class' THEN j.c_status WHEN 'symbol' THEN j.y_status WHEN 'stack' THEN j.st_status
                ELSE 'unresolved' END AS status,
           CASE j.src WHEN 'class' THEN 'lockdep-class' WHEN 'symbol' THEN 'global-symbol'
                WHEN 'stack' THEN 'stack-site/' || j.st_method ELSE 'none' END AS method,
           CASE j.src WHEN 'class' THEN j.c_cands WHEN 'symbol' THEN j.y_cands WHEN 'stack' THEN j.st_cands END AS candidates,
           CASE WHEN j.src = 'none' THEN
                    concat_ws('; ',
                        CASE WHEN j.lock_name IS NOT NULL THEN j.c_reason END,
                        CASE WHEN j.lock_symbol IS NOT NULL THEN j.y_reason END,
                        CASE WHEN j.stack_id IS NULL THEN 'no stack'
                             WHEN j.st_status IS NULL THEN 'stack ' || j.stack_id || ' has no frames'
                             ELSE j.st_reason END)
                WHEN j.src = 'class' THEN j.c_reason
                WHEN j.src = 'symbol' THEN j.y_reason
                ELSE j.st_reason END AS reason
    FROM j
),
-- A spinlock event left unresolved whose address is the wait_lock of a sleeping lock resolved in the same
-- run is that wait_lock: the contended raw spinlock inside an rwsem or mutex slow path
-- (rwsem_down_write_slowpath takes sem->wait_lock). Offsets of wait_lock on x86-64: struct rw_semaphore
-- 0x14 (count, owner, osq before it) or 0x10 without CONFIG_RWSEM_SPIN_ON_OWNER; struct mutex 0x8.
inner_at(owner_type, off, member) AS (VALUES ('rwsem', 20, 'wait_lock'), ('rwsem', 16, 'wait_lock'),
                                             ('mutex', 8, 'wait_lock')),
owners AS (
    SELECT r.run_id, r.lock_addr, r.lock_type, any_value(r.object) AS object,
           any_value(r.object_kind) AS object_kind, any_value(r."struct") AS "struct",
           any_value(r.field) AS field, any_value(r.symbol) AS symbol, min(r.confidence) AS confidence
    FROM o r WHERE r.status = 'resolved' AND r.lock_addr IS NOT NULL AND r.lock_type IN ('rwsem', 'mutex')
    GROUP BY r.run_id, r.lock_addr, r.lock_type HAVING count(DISTINCT r.object) = 1
),
inner_locks AS (
    SELECT u.run_id, u.lock_addr, w.object || '.' || x.member AS object, w.object_kind, w."struct",
           coalesce(w.field || '.', '') || x.member AS field, w.symbol, w.confidence * 0.9 AS confidence,
           printf('the %s of %s at 0x%x (+0x%x), resolved in this run', x.member, w.object, w.lock_addr,
                  x.off) AS reason
    FROM (SELECT DISTINCT v.run_id, v.lock_addr FROM o v
          WHERE v.status = 'unresolved' AND v.lock_addr IS NOT NULL
            AND v.lock_type IN ('spinlock', 'raw_spinlock')) u
    JOIN owners w ON w.run_id = u.run_id
    JOIN inner_at x ON x.owner_type = w.lock_type   -- (as HUGEINT: addresses are UBIGINT, below the owner too)
                   AND CAST(u.lock_addr AS HUGEINT) - CAST(w.lock_addr AS HUGEINT) = x.off
    QUALIFY row_number() OVER (PARTITION BY u.run_id, u.lock_addr ORDER BY x.off DESC, w.object) = 1
),
-- An event left unresolved, or ambiguous between candidates, at an address where events of the same run and
-- lock type were resolved to one object is that object (a lock has one address while its object lives):
-- a 6.15 find_get_block_common wait, a function 6.1 does not have, is the address_space.private_lock its
-- other stacks took. Several objects seen at one address (freed and reused) settle nothing.
same_addr AS (
    SELECT r.run_id, r.lock_addr, r.lock_type, any_value(r.object) AS object,
           any_value(r.object_kind) AS object_kind, any_value(r."struct") AS "struct",
           any_value(r.field) AS field, any_value(r.symbol) AS symbol, min(r.confidence) AS confidence
    FROM o r WHERE r.status = 'resolved' AND r.lock_addr IS NOT NULL AND r.object IS NOT NULL
    GROUP BY r.run_id, r.lock_addr, r.lock_type HAVING count(DISTINCT r.object) = 1
),
o1 AS (  -- an equality join (a test of status in the ON clause made DuckDB loop over every pair)
    SELECT o.*, a.object AS a_object, a.object_kind AS a_kind, a."struct" AS a_struct, a.field AS a_field,
           a.symbol AS a_symbol, a.confidence * 0.9 AS a_conf,
           a.object IS NOT NULL
               AND (o.status = 'unresolved'
                    OR (o.status = 'ambiguous' AND list_contains(coalesce(o.candidates, []), a.object)))
               AS use_a
    FROM o LEFT JOIN same_addr a
      ON a.run_id = o.run_id AND a.lock_addr = o.lock_addr
     AND coalesce(a.lock_type, '') = coalesce(o.lock_type, '')
),
o2 AS (
    SELECT o.* EXCLUDE (object_kind, "struct", field, symbol, object, confidence, status, method, reason,
                        a_object, a_kind, a_struct, a_field, a_symbol, a_conf, use_a),
           CASE WHEN o.use_a THEN o.a_kind WHEN i.object IS NOT NULL THEN i.object_kind
                ELSE o.object_kind END AS object_kind,
           CASE WHEN o.use_a THEN o.a_struct WHEN i.object IS NOT NULL THEN i."struct"
                ELSE o."struct" END AS "struct",
           CASE WHEN o.use_a THEN o.a_field WHEN i.object IS NOT NULL THEN i.field ELSE o.field END AS field,
           CASE WHEN o.use_a THEN o.a_symbol WHEN i.object IS NOT NULL THEN i.symbol
                ELSE o.symbol END AS symbol,
           CASE WHEN o.use_a THEN o.a_object ELSE coalesce(i.object, o.object) END AS object,
           CASE WHEN o.use_a THEN o.a_conf ELSE coalesce(i.confidence, o.confidence) END AS confidence,
           CASE WHEN o.use_a OR i.object IS NOT NULL THEN 'resolved' ELSE o.status END AS status,
           CASE WHEN o.use_a THEN 'same-address' WHEN i.object IS NOT NULL THEN 'inner-lock'
                ELSE o.method END AS method,
           CASE WHEN o.use_a
                    THEN printf('the lock at 0x%x, which other stacks of this run took as %s (%s)', o.lock_addr,
                                o.a_object, coalesce(o.reason, o.status))
                WHEN i.object IS NOT NULL THEN i.reason ELSE o.reason END AS reason
    FROM o1 o LEFT JOIN inner_locks i
      ON i.run_id = o.run_id AND i.lock_addr = o.lock_addr AND o.status = 'unresolved'
)
SELECT o.run_id, o.runtime, o.workload, o.run_mode AS mode, o.backend, o.duration_s,
       coalesce(o.lock_name, o.lock_symbol, printf('0x%x', o.lock_addr), 'unknown') AS lock,
       o.lock_addr, o.lock_name, o.lock_symbol, o.lock_type, o.mode AS lock_mode, o.stack_id,
       coalesce(o.event, 'acquire') AS event, o.context, o.primitive, o.flags,
       o.pid, o.tgid, o.comm, o.cgroup_id, o.count,
       -- an mmap_lock acquisition row of runs made before lima-trace --mmap-lock counted at
       -- acquire_returned alone timed the whole acquisition, the contended wait included, which the
       -- lock's own contended rows already count: no wait here, or every aggregation would count that
       -- wait twice (newer acquisition rows carry no wait).  With --mmap-lock-stacks N > 1 an
       -- acquisition is in a row with a sampled stack (flags SAMPLED) or in its lock and thread's row
       -- without stack, never both: counts add up exactly; counts per site are samples
       CASE WHEN o.event = 'acquire' AND contains(coalesce(o.flags, ''), 'MMAP_LOCK') THEN NULL
            ELSE o.wait_ns_total END AS wait_ns_total,
       CASE WHEN o.event = 'acquire' AND contains(coalesce(o.flags, ''), 'MMAP_LOCK') THEN NULL
            ELSE o.wait_ns_max END AS wait_ns_max,
       o.taken_in, o.st_site_function AS site_function, o.st_site_file AS site_file, o.st_site_line AS site_line,
       o.object_kind, o."struct", o.field, o.symbol, o.object, o.confidence, o.status, o.method, o.candidates,
       o.reason,
       coalesce(o.object,
                CASE WHEN o.status = 'ambiguous' AND o.candidates IS NOT NULL
                     THEN 'ambiguous(' || array_to_string(o.candidates, ' | ') || ')' END,
                'unresolved ' || coalesce(o.lock_name, 'at ' || o.taken_in, o.lock_symbol,
                                          printf('0x%x', o.lock_addr), 'lock')) AS object_key
FROM o2 o
