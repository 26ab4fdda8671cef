-- Drop a room from the rooms index unless it moved since the sweep read it.
-- KEYS: 1 rooms index   ARGV: 1 room, 2 the score the sweep read
-- Returns 1 when removed.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
