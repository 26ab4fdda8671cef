-- Move a person's read marker in a room forward (never back, never past the newest id).
-- KEYS: 1 read markers hash (author token -> seq), 2 message seq counter
-- ARGV: 1 author token, 2 seq, 3 message ttl s
-- Returns {marker after the call, 1 when it moved}.
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
local wanted = math.min(tonumber(ARGV[2]), newest)
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local moved = 0
if wanted > current then
  redis.call('HSET', KEYS[1], ARGV[1], wanted)
  current = wanted
  moved = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {current, moved}
