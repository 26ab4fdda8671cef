-- Apply one event to a message (edit, delete, reaction), log it and publish it, atomically.
-- KEYS: 1 messages zset, 2 events stream, 3 event counter, 4 message seq counter,
--       5 reactions hash (seq -> {emoji: [[author, name], ...]}),
--       6 users hash (presence, for the mentions of an edit), 7 files hash (file id ->
--       seq: a deleted message's files stop being readable at once)
--       (all the room's: the stats are counted by storage/room_activity.py)
-- ARGV: 1 kind ('edit', 'delete', 'reaction'; 'remove': a moderator's deletion, which
--       skips the author check and marks the tombstone `removed`), 2 message seq,
--       3 author token of the person acting ('' = none), 4 now ms, 5 room, 6 pub/sub channel, 7 publish prefix,
--       8 message ttl s, 9 log cap, 10 ISO time now, 11 history cap,
--       edit:     12 new text, 13 mention candidates JSON or '', 14 edit window ms
--       reaction: 12 emoji, 13 '1' add / '0' remove / '' toggle, 14 name, 15 emoji cap
--       and last, after those: 'PUBLISH', or 'SPUBLISH' on a Redis Cluster
-- Returns {1, event JSON} when applied, {0, ''} when it changes nothing,
-- {-1, code, reason} when refused.
local kind = ARGV[1]
local seq = tonumber(ARGV[2])
local found = redis.call('ZRANGE', KEYS[1], seq, seq, 'BYSCORE')
if #found == 0 then
  return {-1, 'not_found', 'No such message in this room'}
end
local author = ARGV[3]
if author == '' then
  return {-1, 'forbidden', 'Join with a client_key to edit, delete or react'}
end
local message = cjson.decode(found[1])

local function public(stored)
  local copy = {}
  for field, value in pairs(stored) do
    if string.sub(field, 1, 1) ~= '_' then
      copy[field] = value
    end
  end
  return copy
end

local function replace(stored)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], seq, seq)
  redis.call('ZADD', KEYS[1], seq, cjson.encode(stored))
end

local tail
-- A moderator's removal is a deletion to every client (its tombstone says `removed`).
local event_type = kind
if kind == 'remove' then
  event_type = 'delete'
end
local fields = {'t', event_type, 'm', seq}
if kind == 'edit' then
  if message.deleted then
    return {-1, 'forbidden', 'This message was deleted'}
  end
  if message._a ~= author then
    return {-1, 'forbidden', 'Only the author can edit this message'}
  end
  if tonumber(ARGV[4]) - (message._t or 0) > tonumber(ARGV[14]) then
    return {-1, 'forbidden', 'This message can no longer be edited'}
  end
  if message.message == ARGV[12] then
    return {0, ''}
  end
  message.message = ARGV[12]
  message.edited_at = ARGV[10]
  message.mentions = nil
  if ARGV[13] ~= '' then
    local present = {}
    for _, candidate in ipairs(cjson.decode(ARGV[13])) do
      if redis.call('HEXISTS', KEYS[6], candidate[1]) == 1 then
        present[#present + 1] = candidate[2]
      end
    end
    if #present > 0 then
      message.mentions = present
    end
  end
  replace(message)
  tail = ',"message":' .. cjson.encode(public(message)) .. '}'
elseif kind == 'delete' or kind == 'remove' then
  if message.deleted then
    return {0, ''}
  end
  if kind == 'delete' and message._a ~= author then
    return {-1, 'forbidden', 'Only the author can delete this message'}
  end
  if kind == 'remove' then
    message.removed = true
  end
  if type(message.files) == 'table' then
    for _, shared in ipairs(message.files) do
      redis.call('HDEL', KEYS[7], shared.id)
    end
  end
  message.files = nil
  message.message = ''
  message.deleted = true
  message.deleted_at = ARGV[10]
  message.edited_at = nil
  message.mentions = nil
  replace(message)
  redis.call('HDEL', KEYS[5], seq)
  tail = ',"message":' .. cjson.encode(public(message)) .. '}'
elseif kind == 'reaction' then
  if message.deleted then
    return {-1, 'forbidden', 'This message was deleted'}
  end
  local emoji = ARGV[12]
  local raw = redis.call('HGET', KEYS[5], seq)
  local all = raw and cjson.decode(raw) or {}
  local list = all[emoji]
  local index = nil
  if list then
    for i, entry in ipairs(list) do
      if entry[1] == author then
        index = i
        break
      end
    end
  end
  local add = ARGV[13] == '1' or (ARGV[13] == '' and index == nil)
  if (add and index) or (not add and not index) then
    return {0, ''}
  end
  if add then
    if not list then
      local distinct = 0
      for _ in pairs(all) do
        distinct = distinct + 1
      end
      if distinct >= tonumber(ARGV[15]) then
        return {-1, 'invalid', 'This message has as many different reactions as it may have'}
      end
      list = {}
      all[emoji] = list
    end
    list[#list + 1] = {author, ARGV[14]}
  else
    table.remove(list, index)
    if #list == 0 then
      all[emoji] = nil
    end
  end
  local count = all[emoji] and #all[emoji] or 0
  if next(all) == nil then
    redis.call('HDEL', KEYS[5], seq)
  else
    redis.call('HSET', KEYS[5], seq, cjson.encode(all))
  end
  -- Messages leave the capped history without a word: drop their reactions in passing.
  if redis.call('HLEN', KEYS[5]) > tonumber(ARGV[11]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
    for _, field in ipairs(redis.call('HKEYS', KEYS[5])) do
      if not oldest or tonumber(field) < tonumber(oldest) then
        redis.call('HDEL', KEYS[5], field)
      end
    end
  end
  redis.call('EXPIRE', KEYS[5], ARGV[8])
  local added = add and '1' or '0'
  fields = {'t', kind, 'm', seq, 'e', emoji, 'u', ARGV[14], 'a', added, 'c', count}
  tail = ',"emoji":' .. cjson.encode(emoji) .. ',"username":' .. cjson.encode(ARGV[14])
    .. ',"added":' .. (add and 'true' or 'false') .. ',"count":' .. count .. '}'
else
  return {-1, 'invalid', 'Unknown event'}
end

local counter = redis.call('INCR', KEYS[3])
local newest = tonumber(redis.call('GET', KEYS[4]) or '0')
-- A log that outlived its room's counters (they expired while it did not) starts again.
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if last then
  local last_seq, last_counter = string.match(last[1], '^(%d+)-(%d+)$')
  last_seq, last_counter = tonumber(last_seq), tonumber(last_counter)
  if last_seq > newest or (last_seq == newest and last_counter >= counter) then
    redis.call('DEL', KEYS[2])
  end
end
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[9], newest .. '-' .. counter, unpack(fields))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then
  redis.call('XTRIM', KEYS[2], 'MINID', oldest[2] .. '-0')
end
local ttl = ARGV[8]
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
local event = '{"id":"' .. string.format('%012d.%012d', newest, counter) .. '","room":'
  .. cjson.encode(ARGV[5]) .. ',"type":"' .. event_type .. '","message_id":"'
  .. string.format('%012d', seq) .. '"' .. tail
-- The last argument: 'PUBLISH', or 'SPUBLISH' on a Redis Cluster.
redis.call(ARGV[#ARGV], ARGV[6], ARGV[7] .. event .. ']')
return {1, event}
