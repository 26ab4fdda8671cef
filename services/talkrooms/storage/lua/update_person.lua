-- Change how a present account appears in a room's online list (its profile changed).
-- KEYS: 1 users hash (identity -> person JSON)
-- ARGV: 1 identity, 2 display name, 3 colour
-- Returns 1 when the person was present (and is updated), 0 otherwise.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then
  return 0
end
local person = cjson.decode(current)
person.d = ARGV[2]
person.c = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(person))
return 1
