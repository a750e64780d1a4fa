-- A status change (resolve, reopen, close) by an agent: logged as an event.
-- ARGV: prefix, conv, new_status, actor_id, client_id, now_ms.
local conv, new_status, actor, client_id, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'not_found' } end
if client_id ~= '' then
  local prev = redis.call('HGET', vkey .. ':clients', client_id)
  if prev then return { 'duplicate', prev } end
end
local old = redis.call('HGET', vkey, 'status')
if old == new_status then return { 'unchanged', redis.call('HGET', vkey, 'seq') } end
if old == 'closed' then return { 'closed' } end

local team, channel, cust = redis.call('HGET', vkey, 'team'), redis.call('HGET', vkey, 'channel'), redis.call('HGET', vkey, 'customer_id')
redis.call('HSET', vkey, 'status', new_status, 'updated_at', now)
if new_status == 'resolved' or new_status == 'closed' then
  redis.call('HSET', vkey, 'resolved_at', now)
  redis.call('ZREM', p .. 'queue:' .. team, conv)
  redis.call('ZREM', p .. 'team:' .. team .. ':open', conv)
  -- The next customer message opens a new conversation.
  local open_key = p .. 'cust:' .. cust .. ':open:' .. channel
  if redis.call('GET', open_key) == conv then redis.call('DEL', open_key) end
end
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
if client_id ~= '' then redis.call('HSET', vkey .. ':clients', client_id, seq) end
emit(conv, seq, 'status', { status = new_status, from = old, actor = actor, at = now })
return { 'stored', tostring(seq) }
