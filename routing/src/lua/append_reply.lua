-- A reply by an agent (or the system): append, queue for delivery in the
-- channel's outbox, publish. ARGV: prefix, conv, author_kind, author_id,
-- author_name, client_id, text, now_ms, automatic.
local conv, author, author_id, author_name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local client_id, text, now, automatic = ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9] == '1'
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'not_found' } end
if client_id ~= '' then
  local prev = redis.call('HGET', vkey .. ':clients', client_id)
  if prev then return { 'duplicate', prev } end
end
local status = redis.call('HGET', vkey, 'status')
if status == 'closed' then return { 'closed' } end

if author == 'agent' then
  if not redis.call('HGET', vkey, 'first_response_at') then redis.call('HSET', vkey, 'first_response_at', now) end
  -- The agent who answers owns the conversation, and the bot stays silent from now on.
  redis.call('HSET', vkey, 'human_replied', '1')
  if status ~= 'assigned' or redis.call('HGET', vkey, 'assignee') ~= author_id then
    redis.call('HSET', vkey, 'status', 'assigned', 'assignee', author_id)
    redis.call('ZREM', p .. 'queue:' .. redis.call('HGET', vkey, 'team'), conv)
  end
end
local seq = append_outbound(conv, author, author_id, author_name, client_id, text, now, automatic, nil)
return { 'stored', tostring(seq) }
