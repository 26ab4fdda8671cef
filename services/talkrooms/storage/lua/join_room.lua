-- Add one connection to a room's presence.
-- KEYS: 1 conns hash (conn -> identity), 2 users hash (identity -> {"u","k"}),
--       3 per-identity connection counts, 4 rooms index, 5 this worker's connection set,
--       6 the names registered accounts hold (identities)
-- ARGV: 1 conn id, 2 identity, 3 user JSON, 4 client key hash or '', 5 user ttl s,
--       6 room ttl s, 7 now ms, 8 room, 9 worker set entry, 10 '1' for a guest
-- Returns {-2} when a guest asks for an account's name, {-1} when the name is live under
-- another key, else {first_connection (1/0), users}.
if ARGV[10] == '1' and redis.call('SISMEMBER', KEYS[6], ARGV[2]) == 1 then
  return {-2}
end
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
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[8])
redis.call('EXPIRE', KEYS[4], ARGV[6])
redis.call('SADD', KEYS[5], ARGV[9])
redis.call('EXPIRE', KEYS[5], user_ttl)
return {first, redis.call('HVALS', KEYS[2])}
