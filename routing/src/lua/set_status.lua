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
local seq = change_status(conv, new_status, actor, now, nil)
if client_id ~= '' then redis.call('HSET', vkey .. ':clients', client_id, seq) end
return { 'stored', tostring(seq) }
