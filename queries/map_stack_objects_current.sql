-- name: map_stack_objects_current
-- kind: view
-- description: map_stack_objects as the queries read it: the cached rows of table stack_objects, plus the live mapping for runs not cached yet
--
-- lima-query, lima-import and install_views keep stack_objects filled (lima.queries.refresh_mappings);
-- a run inserted by other means is still mapped here, only slower.
SELECT * FROM stack_objects
UNION ALL BY NAME
SELECT * FROM map_stack_objects
