-- How far a web chat customer has received and read the replies
-- (gateway/src/webchat.cpp); marks only move forward, never past the newest seq.
-- ARGV: prefix, conv, delivered, read. Answers both marks before, then after.
local k = conv_key(ARGV[2])
local seq = tonumber(redis.call('HGET', k, 'seq') or '0')
local function raise(field, value)
  local before = tonumber(redis.call('HGET', k, field) or '0')
  value = math.min(tonumber(value), seq)
  if value <= before then return { before, before } end
  redis.call('HSET', k, field, value)
  return { before, value }
end
local d, r = raise('customer_delivered_seq', ARGV[3]), raise('customer_read_seq', ARGV[4])
return { d[1], r[1], d[2], r[2] }
