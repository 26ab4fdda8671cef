-- Take connections out of one room's presence: a dead worker's (Store.purge_worker) or
-- ghosts no live worker holds (Store.sweep_room). The room's keys only: one hash slot.
-- KEYS: 1 conns hash, 2 users hash, 3 per-identity connection counts, 4 typing zset
-- ARGV: the connection ids
-- Returns, per connection that was present, the name of the person it took away ('' when
-- they still have another connection); connections already gone give nothing.
local out = {}
for _, conn in ipairs(ARGV) do
  local identity = redis.call('HGET', KEYS[1], conn)
  if identity then
    redis.call('HDEL', KEYS[1], conn)
    local name = ''
    if redis.call('HINCRBY', KEYS[3], identity, -1) <= 0 then
      local holder = redis.call('HGET', KEYS[2], identity)
      if holder then
        name = cjson.decode(holder).u
      end
      redis.call('HDEL', KEYS[3], identity)
      redis.call('HDEL', KEYS[2], identity)
    end
    out[#out + 1] = name
  end
end
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[4])
end
return out
