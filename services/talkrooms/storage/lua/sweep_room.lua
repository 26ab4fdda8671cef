-- Reconcile one room with the workers that really hold its connections (cleanup job).
-- KEYS: 1 conns hash, 2 users hash, 3 per-identity connection counts, 4 typing zset,
--       5 messages zset, 6 rooms index, 7 workers zset
-- ARGV: 1 room, 2 key prefix ('tr'), 3 index cutoff ms (entries older are expired)
-- A connection is live when some registered worker's set holds "room|conn": join_room
-- and leave_room write both in one call, so anything else is a ghost whose worker set
-- expired or vanished. Workers are read here, inside the script, so a worker that
-- registers and joins while the job runs can never be mistaken for a ghost.
-- Returns {connections removed, 1 if the index entry was removed else 0, names that left...}.
local room = ARGV[1]
local conns = redis.call('HGETALL', KEYS[1])
local entries = {}
for i = 1, #conns, 2 do
  entries[#entries + 1] = room .. '|' .. conns[i]
end

local held = {}
if #entries > 0 then
  for _, worker in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
    local set = ARGV[2] .. ':worker:' .. worker .. ':conns'
    -- SMISMEMBER in chunks: Lua's unpack has a small stack limit.
    for first = 1, #entries, 1000 do
      local last = math.min(first + 999, #entries)
      local found = redis.call('SMISMEMBER', set, unpack(entries, first, last))
      for k = 1, #found do
        if found[k] == 1 then
          held[first + k - 1] = true
        end
      end
    end
  end
end

local counts, removed = {}, 0
for i = 1, #conns, 2 do
  local index = (i + 1) / 2
  if held[index] then
    counts[conns[i + 1]] = (counts[conns[i + 1]] or 0) + 1
  else
    redis.call('HDEL', KEYS[1], conns[i])
    removed = removed + 1
  end
end

-- People whose every connection is gone leave; the counts follow the real connections.
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

local score = redis.call('ZSCORE', KEYS[6], room)
if score then
  local empty = redis.call('HLEN', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[5]) == 0
  if empty or tonumber(score) < tonumber(ARGV[3]) then
    redis.call('ZREM', KEYS[6], room)
    out[2] = 1
  end
end
return out
