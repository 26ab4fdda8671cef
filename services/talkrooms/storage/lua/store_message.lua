-- Store one chat message and publish it to every worker, atomically.
-- KEYS: 1 seq counter, 2 messages zset, 3 client-id zset, 4 rooms index, 5 stats hash,
--       6 users hash (presence: identity -> person), 7 silenced hash (author -> 'code' or
--       'code|until ms': a block, a mute, a ban),
--       8 uploads hash (file id -> 'author|file JSON'), 9 files hash (file id -> seq),
--       10 slow-mode zset (author -> next message allowed, ms)
-- ARGV: 1 message JSON after the id, without its closing brace ('","username":...'),
--       2 client_id or '', 3 history cap, 4 client-id window, 5 message ttl s,
--       6 room ttl s, 7 now ms, 8 room, 9 pub/sub channel, 10 publish prefix,
--       11 publish suffix, 12 private fields stored but never sent (',"_a":...'),
--       13 reply_to seq or '', 14 mention candidates '[[identity, name], ...]' or '',
--       15 author token or '', 16 file ids '["id", ...]' or '', 17 slow mode ms or 0
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

if ARGV[15] ~= '' then
  -- 'code' for good, or 'code|until ms' (a mute or ban with an end).
  local silenced = redis.call('HGET', KEYS[7], ARGV[15])
  if silenced then
    local code, ends = string.match(silenced, '^([^|]+)|(%d+)$')
    if not code then
      return {-2, silenced}
    end
    if tonumber(ends) > tonumber(ARGV[7]) then
      return {-2, code}
    end
  end
end

local extra = ''
local file_ids = {}
if ARGV[16] ~= '' then
  file_ids = cjson.decode(ARGV[16])
  local shared = {}
  for index, file_id in ipairs(file_ids) do
    local waiting = redis.call('HGET', KEYS[8], file_id)
    if not waiting then
      return {-3, 'not_found'}
    end
    local bar = string.find(waiting, '|', 1, true)
    if string.sub(waiting, 1, bar - 1) ~= ARGV[15] then
      return {-3, 'not_found'}
    end
    shared[index] = string.sub(waiting, bar + 1)
  end
  extra = ',"files":[' .. table.concat(shared, ',') .. ']'
end
if ARGV[13] ~= '' then
  if #redis.call('ZRANGE', KEYS[2], ARGV[13], ARGV[13], 'BYSCORE') == 0 then
    return {-1, 'not_found'}
  end
  extra = extra .. ',"reply_to":"' .. string.format('%012d', tonumber(ARGV[13])) .. '"'
end
if ARGV[14] ~= '' then
  local present = {}
  for _, candidate in ipairs(cjson.decode(ARGV[14])) do
    if redis.call('HEXISTS', KEYS[6], candidate[1]) == 1 then
      present[#present + 1] = candidate[2]
    end
  end
  if #present > 0 then
    extra = extra .. ',"mentions":' .. cjson.encode(present)
  end
end

local slow = tonumber(ARGV[17])
if slow > 0 and ARGV[15] ~= '' then
  local now = tonumber(ARGV[7])
  local next_allowed = tonumber(redis.call('ZSCORE', KEYS[10], ARGV[15]) or '0')
  if next_allowed > now then
    return {-4, next_allowed - now}
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now)
  redis.call('ZADD', KEYS[10], now + slow, ARGV[15])
  redis.call('PEXPIRE', KEYS[10], slow)
end

local seq = redis.call('INCR', KEYS[1])
local body = '{"id":"' .. string.format('%012d', seq) .. ARGV[1] .. extra
local message = body .. '}'
local message_ttl = tonumber(ARGV[5])

redis.call('ZADD', KEYS[2], seq, body .. ARGV[12] .. '}')
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[2], message_ttl)
redis.call('EXPIRE', KEYS[1], message_ttl)
if client_id ~= '' then
  redis.call('ZADD', KEYS[3], seq, client_id)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
  redis.call('EXPIRE', KEYS[3], message_ttl)
end
for _, file_id in ipairs(file_ids) do
  redis.call('HDEL', KEYS[8], file_id)
  redis.call('HSET', KEYS[9], file_id, seq)
end
if #file_ids > 0 then
  redis.call('EXPIRE', KEYS[9], message_ttl)
end
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[8])
redis.call('EXPIRE', KEYS[4], ARGV[6])
redis.call('HINCRBY', KEYS[5], 'messages_stored', 1)
redis.call('PUBLISH', ARGV[9], ARGV[10] .. message .. ARGV[11])
return {1, message}
