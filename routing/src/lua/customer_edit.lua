-- An agent's change to a customer file (gateway/src/console_api.cpp), refused
-- in the same step when the file is erased (erase.lua: it takes no personal
-- data again; checked apart, an erasure could run between check and write).
-- ARGV: prefix, op, customer id, now_ms, then per op:
--   patch     '1' when the name changed, then field, value pairs -> { 'updated' } | { 'erased' }
--   identity  channel, external id, identity JSON
--             -> { 'linked', '1' when new } | { 'taken', holder } | { 'erased' }
-- A new name or identity marks the file for the search index to read again
-- (search:dirty:cust, routing/search_service.hpp).
local op, id, now = ARGV[2], ARGV[3], ARGV[4]
local ckey = p .. 'cust:' .. id
if redis.call('HEXISTS', ckey, 'erased_at') == 1 then return { 'erased' } end

if op == 'patch' then
  local fields = {}
  for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', ckey, unpack(fields))
  if ARGV[5] == '1' then redis.call('ZADD', p .. 'search:dirty:cust', now, id) end
  return { 'updated' }
end

if op == 'identity' then
  local channel, external = ARGV[5], ARGV[6]
  local claimed = redis.call('SET', p .. 'ident:' .. channel .. ':' .. external, id, 'NX', 'GET')
  if claimed and claimed ~= id then return { 'taken', claimed } end
  redis.call('HSET', ckey .. ':identities', channel .. ':' .. external, ARGV[7])
  redis.call('ZADD', p .. 'search:dirty:cust', now, id)
  return { 'linked', claimed and '0' or '1' }
end

return { 'unknown_op', op }
