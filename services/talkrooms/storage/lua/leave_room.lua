-- Remove one connection from a room's presence.
-- KEYS: 1 conns hash, 2 users hash, 3 per-identity connection counts, 4 rooms index,
--       5 this worker's connection set
-- ARGV: 1 conn id, 2 worker set entry, 3 now ms, 4 room
-- Returns {left (1/0), username that left or '', users} or {-1} when not present.
redis.call('SREM', KEYS[5], ARGV[2])
local identity = redis.call('HGET', KEYS[1], ARGV[1])
if not identity then
  return {-1}
end
redis.call('HDEL', KEYS[1], ARGV[1])
local left, name = 0, ''
if redis.call('HINCRBY', KEYS[3], identity, -1) <= 0 then
  local holder = redis.call('HGET', KEYS[2], identity)
  if holder then
    name = cjson.decode(holder).u
  end
  redis.call('HDEL', KEYS[3], identity)
  redis.call('HDEL', KEYS[2], identity)
  left = 1
end
redis.call('ZADD', KEYS[4], 'XX', ARGV[3], ARGV[4])
return {left, name, redis.call('HVALS', KEYS[2])}
