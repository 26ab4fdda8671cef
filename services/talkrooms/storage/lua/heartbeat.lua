-- Record that a worker is alive; tell it whether it was still registered.
-- KEYS: 1 workers zset, 2 the worker's connection set, 3 the worker's info string
-- ARGV: 1 worker id, 2 now ms, 3 ttl s of the registry and the set, 4 info JSON,
--       5 ttl s of the info (a few heartbeats: it vanishes soon after the worker)
-- Returns 1 when the worker was registered, 0 when it was purged (or is new).
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
if known then
  return 1
end
return 0
