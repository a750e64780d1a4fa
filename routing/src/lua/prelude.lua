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
