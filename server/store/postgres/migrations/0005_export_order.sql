-- Exports read a workspace's memories in row order, a page at a time from
-- a position: a range of this index, not a sort of the workspace per page.
CREATE INDEX memories_ws_rid ON memories (workspace, rid);
