-- A web chat visitor's pre-chat contact details (gateway/src/webchat.cpp).
-- The email is a verified key (issue 8): ingest links the visitor's first
-- message to the customer who holds it; a visitor who already is a customer
-- gets it indexed, or a merge suggestion when another file holds it.
-- ARGV: prefix, channel, visitor, email, name, ttl_s, email key, now_ms
local channel, visitor, email, name, key_email = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7]
local vkey = p .. 'webchat:visitor:' .. channel .. ':' .. visitor
if email ~= '' then redis.call('HSET', vkey, 'email', email, 'key_email', key_email) end
if name ~= '' then redis.call('HSET', vkey, 'name', name) end
if redis.call('EXISTS', vkey) == 1 then redis.call('EXPIRE', vkey, tonumber(ARGV[6])) end
local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. visitor)
if cust then
  local ckey = p .. 'cust:' .. cust
  if email ~= '' then redis.call('HSET', ckey, 'email', email) end
  if name ~= '' then redis.call('HSET', ckey, 'name', name) end
  if key_email ~= '' then index_customer_key(cust, 'email:' .. key_email, ARGV[8]) end
  if email ~= '' or name ~= '' then search_customer_changed(cust, ARGV[8]) end
end
local prof = redis.call('HMGET', vkey, 'name', 'email')
return { prof[1] or '', prof[2] or '' }
