-- Remove one connection from a room's presence (the room's keys only: one hash slot).
-- KEYS: 1 conns hash, 2 users hash, 3 per-identity connection counts
-- ARGV: 1 conn id
-- Returns {left (1/0), username that left or '', users} or {-1} when not present.
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
return {left, name, redis.call('HVALS', KEYS[2])}
