-- Reconcile one room's presence with the connections live workers hold (cleanup job).
-- KEYS: 1 conns hash, 2 users hash, 3 per-identity connection counts, 4 typing zset,
--       5 messages zset (the room's keys only: one hash slot)
-- ARGV: the ghost connection ids: in the conns hash but in no live worker's set when
--       Store.sweep_room looked (it reads the conns first and the workers after, and a
--       join writes its worker's set before the conns hash, so a live connection is
--       never taken for a ghost).
-- Returns {connections removed, 1 if the room is empty (nobody, no message), names that left...}.
local removed = 0
for _, conn in ipairs(ARGV) do
  removed = removed + redis.call('HDEL', KEYS[1], conn)
end

-- People whose every connection is gone leave; the counts follow the real connections.
local counts = {}
local conns = redis.call('HGETALL', KEYS[1])
for i = 1, #conns, 2 do
  counts[conns[i + 1]] = (counts[conns[i + 1]] or 0) + 1
end
local out = {removed, 0}
local users = redis.call('HGETALL', KEYS[2])
for i = 1, #users, 2 do
  if not counts[users[i]] then
    redis.call('HDEL', KEYS[2], users[i])
    out[#out + 1] = cjson.decode(users[i + 1]).u
  end
end
local nconn = redis.call('HGETALL', KEYS[3])
for i = 1, #nconn, 2 do
  local actual = counts[nconn[i]]
  if not actual then
    redis.call('HDEL', KEYS[3], nconn[i])
  elseif tonumber(nconn[i + 1]) ~= actual then
    redis.call('HSET', KEYS[3], nconn[i], actual)
  end
end
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[4])
end
if #conns == 0 and redis.call('EXISTS', KEYS[5]) == 0 then
  out[2] = 1
end
return out
