-- Shared helpers, prepended to every conversation script.
-- Keys are derived from the prefix inside the scripts: ingest must resolve
-- customer and conversation ids it cannot know in advance. (Not Redis Cluster
-- safe; a single primary with replicas is the supported topology.)
local p = ARGV[1]

local function conv_key(id) return p .. 'conv:' .. id end

-- The conversation as clients see it (numbers as numbers).
local function conv_view(id)
  local h = redis.call('HGETALL', conv_key(id))
  local v = {}
  for i = 1, #h, 2 do v[h[i]] = h[i + 1] end
  local cust_name = redis.call('HGET', p .. 'cust:' .. (v.customer_id or ''), 'name') or ''
  return {
    id = v.id, channel = v.channel, kind = v.kind, customer_id = v.customer_id,
    customer_name = cust_name, status = v.status, priority = v.priority,
    assignee = v.assignee or '', team = v.team, seq = tonumber(v.seq or '0'),
    created_at = tonumber(v.created_at or '0'), updated_at = tonumber(v.updated_at or '0'),
    last_customer_message_at = tonumber(v.last_customer_message_at or '0'),
    -- Routing (absent when not set): VIP, bot topic tags, SLA due times, snooze end.
    vip = v.vip == '1' or nil, topic_tags = v.topic_tags, sla_breached = v.sla_breached == '1' or nil,
    sla_first_due = tonumber(v.sla_first_due or ''), sla_resolve_due = tonumber(v.sla_resolve_due or ''),
    first_response_at = tonumber(v.first_response_at or ''), snoozed_until = tonumber(v.snoozed_until or ''),
    labels = v.labels,  -- comma-joined, absent when none (cjson writes an empty list as {})
  }
end

-- Appends one event frame to the conversation log (stream id = seq, so
-- "everything after N" is an XRANGE) and publishes it to every instance.
local function emit(conv, seq, event, fields, customer)
  local frame = { type = 'event', conv = conv, seq = seq, event = event, conversation = conv_view(conv) }
  for k, v in pairs(fields) do frame[k] = v end
  local encoded = cjson.encode(frame)
  redis.call('XADD', conv_key(conv) .. ':log', seq .. '-1', 'f', encoded)
  redis.call('PUBLISH', p .. 'events', cjson.encode({ team = frame.conversation.team, conv = conv,
    customer = customer or frame.conversation.customer_id, seq = seq, assignee = frame.conversation.assignee }) ..
    '\n' .. encoded)
  return frame
end

-- Appends an outbound message (agent, bot or system) and queues it in the
-- channel's outbox. `buttons` is a Lua array of {id=, title=} or nil.
local function append_outbound(conv, author, author_id, author_name, client_id, text, now, automatic, buttons)
  local vkey = conv_key(conv)
  local team, channel = redis.call('HGET', vkey, 'team'), redis.call('HGET', vkey, 'channel')
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  redis.call('HSET', vkey, 'updated_at', now)
  redis.call('ZADD', p .. 'team:' .. team .. ':open', now, conv)
  if client_id ~= '' then redis.call('HSET', vkey .. ':clients', client_id, seq) end
  local msg = { id = conv .. ':' .. seq, conversation_id = conv, seq = seq, direction = 'out', author = author,
    author_id = author_id, author_name = author_name, text = text, channel = channel, created_at = now,
    status = 'pending' }
  if client_id ~= '' then msg.client_id = client_id end
  if buttons and #buttons > 0 then msg.buttons = buttons end
  emit(conv, seq, 'message', { message = msg })
  local out = { message_id = msg.id, conversation_id = conv, seq = seq, channel = channel,
    kind = redis.call('HGET', vkey, 'kind'), recipient = redis.call('HGET', vkey, 'recipient') or '',
    text = text, automatic = automatic }
  if buttons and #buttons > 0 then out.buttons = buttons end
  redis.call('XADD', p .. 'outbox:' .. channel, '*', 'm', cjson.encode(out))
  return seq
end

-- Moves the conversation to `new_status` and logs the change as an event.
local function change_status(conv, new_status, actor, now, extra)
  local vkey = conv_key(conv)
  local old = redis.call('HGET', vkey, 'status')
  local team, channel, cust = redis.call('HGET', vkey, 'team'), redis.call('HGET', vkey, 'channel'),
    redis.call('HGET', vkey, 'customer_id')
  redis.call('HSET', vkey, 'status', new_status, 'updated_at', now)
  if new_status == 'queued' then
    redis.call('ZADD', p .. 'queue:' .. team, now, conv)
  elseif new_status == 'resolved' or new_status == 'closed' then
    redis.call('HSET', vkey, 'resolved_at', now)
    redis.call('ZREM', p .. 'queue:' .. team, conv)
    redis.call('ZREM', p .. 'team:' .. team .. ':open', conv)
    -- The next customer message opens a new conversation.
    local open_key = p .. 'cust:' .. cust .. ':open:' .. channel
    if redis.call('GET', open_key) == conv then redis.call('DEL', open_key) end
  end
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  local fields = { status = new_status, from = old, actor = actor, at = now }
  for k, v in pairs(extra or {}) do fields[k] = v end
  emit(conv, seq, 'status', fields)
  return seq
end
