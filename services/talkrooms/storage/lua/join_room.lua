-- Add one connection to a room's presence (the room's keys only: one hash slot).
-- KEYS: 1 conns hash (conn -> identity), 2 users hash (identity -> {"u","k"}),
--       3 per-identity connection counts
-- ARGV: 1 conn id, 2 identity, 3 user JSON, 4 client key hash or '', 5 user ttl s
-- The worker's connection set and the rooms index are written around it by Store.join.
-- Returns {-1} when the name is live under another key, else {first_connection (1/0), users}.
local current = redis.call('HGET', KEYS[2], ARGV[2])
if current then
  local holder = cjson.decode(current)
  if ARGV[4] == '' or holder.k ~= ARGV[4] then
    return {-1}
  end
end

local first = 0
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  if redis.call('HINCRBY', KEYS[3], ARGV[2], 1) == 1 then
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
    first = 1
  end
end
local user_ttl = tonumber(ARGV[5])
redis.call('EXPIRE', KEYS[1], user_ttl)
redis.call('EXPIRE', KEYS[2], user_ttl)
redis.call('EXPIRE', KEYS[3], user_ttl)
return {first, redis.call('HVALS', KEYS[2])}
