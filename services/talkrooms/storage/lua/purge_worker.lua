-- Remove every connection a dead worker left in presence, exactly once.
-- KEYS: 1 workers zset, 2 the dead worker's connection set
-- ARGV: 1 worker id, 2 key prefix ('tr'), 3 '1' to purge a set whose worker is no
--       longer registered at all (the cleanup job's sweep), else '0'
-- Returns a flat list {room, username-that-left or '', ...}; empty when another
-- process already purged this worker.
local registered = redis.call('ZREM', KEYS[1], ARGV[1]) == 1
if not registered and not (ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1) then
  return {}
end
local out = {}
for _, entry in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local sep = string.find(entry, '|', 1, true)
  local room = string.sub(entry, 1, sep - 1)
  local conn = string.sub(entry, sep + 1)
  local base = ARGV[2] .. ':room:' .. room
  local identity = redis.call('HGET', base .. ':conns', conn)
  if identity then
    redis.call('HDEL', base .. ':conns', conn)
    local name = ''
    if redis.call('HINCRBY', base .. ':nconn', identity, -1) <= 0 then
      local holder = redis.call('HGET', base .. ':users', identity)
      if holder then
        name = cjson.decode(holder).u
      end
      redis.call('HDEL', base .. ':nconn', identity)
      redis.call('HDEL', base .. ':users', identity)
    end
    table.insert(out, room)
    table.insert(out, name)
  end
end
redis.call('DEL', KEYS[2])
return out
