-- A reply by an agent (or the system): append, queue for delivery in the
-- channel's outbox, publish. ARGV: prefix, conv, author_kind, author_id,
-- author_name, client_id, text, now_ms, automatic, the caller's channels
-- (comma-joined: those it sends on).
local conv, author, author_id, author_name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local client_id, text, now, automatic = ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9] == '1'
local here = ARGV[10] or ''
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'not_found' } end
-- A removed agent's reply still in flight would give the conversation to
-- nobody (the agent's socket is closing).
if author == 'agent' and redis.call('EXISTS', agent_key(author_id)) == 0 then return { 'author_gone' } end
if client_id ~= '' then
  local prev = redis.call('HGET', vkey .. ':clients', client_id)
  if prev then return { 'duplicate', prev } end
end
local status = redis.call('HGET', vkey, 'status')
if status == 'closed' then return { 'closed' } end
-- An agent's reply on a channel no live gateway sends on would wait for
-- ever: refused, nothing stored. (The bot and the surveys answer a message
-- that reached the gateway sending them, which serves its channel.) The
-- channel is not noted for the sweep of its outbox (channel_servers.lua):
-- a gateway of an older version, which does not say what it serves, may
-- send on it.
local channel = redis.call('HGET', vkey, 'channel') or ''
if author == 'agent' and not channel_served(channel, here) then
  return { 'channel_unavailable', channel }
end

-- A reply to a resolved conversation is a follow-up (or crossed the resolve):
-- it goes out and the conversation stays resolved; a person reopens it.
if author == 'agent' and status == 'resolved' then
  redis.call('HSET', vkey, 'human_replied', '1', 'last_agent_reply_at', now)
elseif author == 'agent' then
  if not redis.call('HGET', vkey, 'first_response_at') then redis.call('HSET', vkey, 'first_response_at', now) end
  -- The agent who answers owns the conversation, the bot stays silent from now
  -- on, and the reassign timer stops.
  redis.call('HSET', vkey, 'human_replied', '1', 'last_agent_reply_at', now)
  redis.call('ZREM', p .. 'timers:reassign', conv)
  local prev = redis.call('HGET', vkey, 'assignee') or ''
  if status ~= 'assigned' or prev ~= author_id then
    -- Silently: the message event carries the conversation's new state.
    redis.call('HSET', vkey, 'status', 'assigned', 'assignee', author_id, 'assigned_at', now)
    redis.call('HDEL', vkey, 'snoozed_until')
    clear_timers(conv)
    redis.call('ZREM', p .. 'queue:' .. redis.call('HGET', vkey, 'team'), conv)
    if redis.call('EXISTS', agent_key(author_id)) == 1 then
      redis.call('SADD', agent_key(author_id) .. ':convs', conv)
      note_assignment(author_id, redis.call('HGET', vkey, 'customer_id'), now)
      index_agent(author_id, now)
    end
    if prev ~= '' and prev ~= author_id then
      release(conv, prev, now)
      drain_agent(prev, now, 10)
    end
  end
end
local seq = append_outbound(conv, author, author_id, author_name, client_id, text, now, automatic, nil)
return { 'stored', tostring(seq) }
