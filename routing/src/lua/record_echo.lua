-- A copy of a message our page / account sent (Meta is_echo). Echoes of what
-- Pasokh sent itself are known by their provider id and skipped; anything else
-- was written outside Pasokh (a person in the Page inbox) and is recorded as an
-- outbound message, already sent, in the customer's open conversation. An echo
-- never opens a conversation.
-- ARGV: prefix, channel, customer_external_id, provider_message_id, text,
-- attachments_json ('' for none), sent_at_ms, now_ms, dedup_key, dedup_ttl_s,
-- provider_id_ttl_s.
local channel, ext, provider_id, text = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local attachments, sent_at, now = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local dedup_key, dedup_ttl, provider_ttl = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])

local dkey, seen = dedup_of(channel, dedup_key)
if seen then return { 'duplicate' } end
local pkey = p .. 'provider_msg:' .. channel .. ':' .. provider_id
if redis.call('EXISTS', pkey) == 1 then return { 'ours' } end

local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. ext)
local conv = cust and redis.call('GET', p .. 'cust:' .. cust .. ':open:' .. channel)
if not conv then return { 'no_conversation' } end

local vkey = conv_key(conv)
-- Pasokh is sending in this conversation (gateway/src/messenger_store.cpp):
-- this may be that send's echo, come before the answer that records its
-- provider id. Deferred: the webhook answers 503 and Meta delivers it again.
local sending = vkey .. ':sending'
redis.call('ZREMRANGEBYSCORE', sending, '-inf', now)
if redis.call('EXISTS', sending) == 1 then return { 'sending' } end
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
local msg = { id = conv .. ':' .. seq, conversation_id = conv, seq = seq, direction = 'out', author = 'agent',
  author_id = '', author_name = '', text = text, channel = channel, created_at = sent_at > 0 and sent_at or now,
  provider_message_id = provider_id, status = 'sent', echo = true }
redis.call('HSET', vkey, 'updated_at', now,
  'last_message', last_message_field(seq, msg.created_at, 'agent', text, attachments ~= ''))
-- A person answers from the provider's own inbox: the bot stays silent from now on.
redis.call('HSET', vkey, 'human_replied', '1')
sent_to_customer(cust, channel)
if attachments ~= '' then msg.attachments = cjson.decode(attachments) end
emit(conv, seq, 'message', { message = msg })
redis.call('HSET', vkey .. ':delivery', seq, cjson.encode({ status = 'sent', provider_message_id = provider_id, at = now }))
redis.call('SET', pkey, conv .. ':' .. seq, 'EX', provider_ttl)
if dkey then redis.call('SET', dkey, conv, 'EX', dedup_ttl) end
return { 'stored', conv, tostring(seq) }
