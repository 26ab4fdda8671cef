-- Store one chat message and publish it to the workers listening to its room, atomically.
-- Every key is the room's (one hash slot): the rooms index and the stats are written in
-- bulk by storage/room_activity.py.
-- KEYS: 1 seq counter, 2 messages zset, 3 client-id zset,
--       4 users hash (presence: identity -> person), 5 silenced hash (author -> 'code' or
--       'code|until ms': a block, a mute, a ban),
--       6 uploads hash (file id -> 'author|file JSON'), 7 files hash (file id -> seq),
--       8 slow-mode zset (author -> next message allowed, ms)
-- ARGV: 1 message JSON after the id, without its closing brace ('","username":...'),
--       2 client_id or '', 3 history cap, 4 client-id window, 5 message ttl s,
--       6 now ms, 7 pub/sub channel (the room's), 8 publish prefix,
--       9 publish suffix, 10 private fields stored but never sent (',"_a":...'),
--       11 reply_to seq or '', 12 mention candidates '[[identity, name], ...]' or '',
--       13 author token or '', 14 file ids '["id", ...]' or '', 15 slow mode ms or 0,
--       16 'PUBLISH', or 'SPUBLISH' on a Redis Cluster (the channel shares the room's slot)
-- Returns {1, message} when stored, {0, message or '', seq} for a known client_id,
-- {-1, 'not_found'} when reply_to names no message kept in the room,
-- {-2, code} when the author may not write here (a block in a private conversation),
-- {-3, 'not_found'} when a file id names no upload of this author waiting in this room,
-- {-4, ms to wait} when slow mode allows this author no message yet.
local client_id = ARGV[2]
if client_id ~= '' then
  local known = redis.call('ZSCORE', KEYS[3], client_id)
  if known then
    local stored = redis.call('ZRANGE', KEYS[2], known, known, 'BYSCORE')
    return {0, stored[1] or '', tonumber(known)}
  end
end

if ARGV[13] ~= '' then
  -- 'code' for good, or 'code|until ms' (a mute or ban with an end).
  local silenced = redis.call('HGET', KEYS[5], ARGV[13])
  if silenced then
    local code, ends = string.match(silenced, '^([^|]+)|(%d+)$')
    if not code then
      return {-2, silenced}
    end
    if tonumber(ends) > tonumber(ARGV[6]) then
      return {-2, code}
    end
  end
end

local extra = ''
local file_ids = {}
if ARGV[14] ~= '' then
  file_ids = cjson.decode(ARGV[14])
  local shared = {}
  for index, file_id in ipairs(file_ids) do
    local waiting = redis.call('HGET', KEYS[6], file_id)
    if not waiting then
      return {-3, 'not_found'}
    end
    local bar = string.find(waiting, '|', 1, true)
    if string.sub(waiting, 1, bar - 1) ~= ARGV[13] then
      return {-3, 'not_found'}
    end
    shared[index] = string.sub(waiting, bar + 1)
  end
  extra = ',"files":[' .. table.concat(shared, ',') .. ']'
end
if ARGV[11] ~= '' then
  if #redis.call('ZRANGE', KEYS[2], ARGV[11], ARGV[11], 'BYSCORE') == 0 then
    return {-1, 'not_found'}
  end
  extra = extra .. ',"reply_to":"' .. string.format('%012d', tonumber(ARGV[11])) .. '"'
end
if ARGV[12] ~= '' then
  local present = {}
  for _, candidate in ipairs(cjson.decode(ARGV[12])) do
    if redis.call('HEXISTS', KEYS[4], candidate[1]) == 1 then
      present[#present + 1] = candidate[2]
    end
  end
  if #present > 0 then
    extra = extra .. ',"mentions":' .. cjson.encode(present)
  end
end

local slow = tonumber(ARGV[15])
if slow > 0 and ARGV[13] ~= '' then
  local now = tonumber(ARGV[6])
  local next_allowed = tonumber(redis.call('ZSCORE', KEYS[8], ARGV[13]) or '0')
  if next_allowed > now then
    return {-4, next_allowed - now}
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now)
  redis.call('ZADD', KEYS[8], now + slow, ARGV[13])
  redis.call('PEXPIRE', KEYS[8], slow)
end

local seq = redis.call('INCR', KEYS[1])
local body = '{"id":"' .. string.format('%012d', seq) .. ARGV[1] .. extra
local message = body .. '}'
local message_ttl = tonumber(ARGV[5])

redis.call('ZADD', KEYS[2], seq, body .. ARGV[10] .. '}')
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[2], message_ttl)
redis.call('EXPIRE', KEYS[1], message_ttl)
if client_id ~= '' then
  redis.call('ZADD', KEYS[3], seq, client_id)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
  redis.call('EXPIRE', KEYS[3], message_ttl)
end
for _, file_id in ipairs(file_ids) do
  redis.call('HDEL', KEYS[6], file_id)
  redis.call('HSET', KEYS[7], file_id, seq)
end
if #file_ids > 0 then
  redis.call('EXPIRE', KEYS[7], message_ttl)
end
redis.call(ARGV[16], ARGV[7], ARGV[8] .. message .. ARGV[9])
return {1, message}
