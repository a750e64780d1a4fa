-- One inbound customer message, atomically: dedup, customer, conversation,
-- append, publish. ARGV: prefix, channel, kind, external_id, display_name,
-- dedup_key, dedup_ttl_s, now_ms, message_json, team, bot_enabled, language,
-- recipient, [thread_conv, thread_any_sender]: a conversation the message
-- answers (email threading), continued while it is open on this channel and
-- the sender is its customer, or anyone when thread_any_sender is '1' (the
-- caller verified a secret reply token), [alt_external_id]: a second id of the
-- same person (WhatsApp user_id beside the wa_id); either id finds the customer.
local channel, kind, ext, display_name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local dedup_key, dedup_ttl, now = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local team, bot_enabled, language, recipient = ARGV[10], ARGV[11] == '1', ARGV[12], ARGV[13]

local dkey
if dedup_key ~= '' then
  dkey = p .. 'dedup:' .. channel .. ':' .. dedup_key
  local seen = redis.call('GET', dkey)
  if seen then return { 'duplicate', seen } end
end

local ikey = p .. 'ident:' .. channel .. ':' .. ext
local cust = redis.call('GET', ikey)
local alt = ARGV[16] or ''
local akey = alt ~= '' and alt ~= ext and (p .. 'ident:' .. channel .. ':' .. alt)
if not cust and akey then cust = redis.call('GET', akey) end
if not cust then
  cust = 'cu_' .. redis.call('INCR', p .. 'next:customer')
  redis.call('HSET', p .. 'cust:' .. cust, 'id', cust, 'name', display_name, 'language', language,
    'created_at', now, 'vip', '0')
end
-- Link every id we learn to the customer (the second id may come later).
for _, id in ipairs({ ext, akey and alt or nil }) do
  local key = p .. 'ident:' .. channel .. ':' .. id
  if not redis.call('GET', key) then
    redis.call('SET', key, cust)
    redis.call('HSET', p .. 'cust:' .. cust .. ':identities', channel .. ':' .. id,
      cjson.encode({ channel = channel, kind = kind, external_id = id, display_name = display_name }))
  end
end
local ckey = p .. 'cust:' .. cust
redis.call('HSET', ckey, 'last_seen_at', now)
if display_name ~= '' and (redis.call('HGET', ckey, 'name') or '') == '' then
  redis.call('HSET', ckey, 'name', display_name)
end

local open_key = ckey .. ':open:' .. channel
local conv = false
local thread_conv = ARGV[14] or ''
if thread_conv ~= '' then
  local t = redis.call('HMGET', conv_key(thread_conv), 'channel', 'status', 'customer_id')
  if t[1] == channel and t[2] ~= 'resolved' and t[2] ~= 'closed' and (ARGV[15] == '1' or t[3] == cust) then
    conv = thread_conv
  end
end
if not conv then conv = redis.call('GET', open_key) end
local created = 0
if not conv then
  conv = 'cv_' .. redis.call('INCR', p .. 'next:conversation')
  local status = bot_enabled and 'bot' or 'queued'
  redis.call('HSET', conv_key(conv), 'id', conv, 'channel', channel, 'kind', kind, 'customer_id', cust,
    'status', status, 'priority', 'normal', 'assignee', '', 'team', team, 'seq', 0,
    'created_at', now, 'updated_at', now)
  redis.call('SET', open_key, conv)
  redis.call('RPUSH', ckey .. ':conversations', conv)
  if status == 'queued' then redis.call('ZADD', p .. 'queue:' .. team, now, conv) end
  created = 1
end

local vkey = conv_key(conv)
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
redis.call('HSET', vkey, 'updated_at', now, 'last_customer_message_at', now, 'recipient', recipient)
local conv_team = redis.call('HGET', vkey, 'team')
redis.call('ZADD', p .. 'team:' .. conv_team .. ':open', now, conv)

local msg = cjson.decode(ARGV[9])
msg.id = conv .. ':' .. seq
msg.conversation_id = conv
msg.seq = seq
msg.direction = 'in'
msg.author = 'customer'
msg.channel = channel
msg.created_at = now
msg.status = 'delivered'
local frame = emit(conv, seq, 'message', { message = msg }, cust)

if dkey then redis.call('SET', dkey, conv .. '|' .. seq .. '|' .. cust, 'EX', dedup_ttl) end
-- Messengers refer back to a message by its provider id (edits, replies).
if msg.provider_message_id and (kind == 'telegram' or kind == 'whatsapp' or kind == 'messenger' or kind == 'instagram') then
  redis.call('SET', p .. 'provider_msg:' .. channel .. ':' .. msg.provider_message_id, conv .. ':' .. seq, 'EX', dedup_ttl)
end
return { 'stored', conv, tostring(seq), cust, tostring(created), frame.conversation.status }
