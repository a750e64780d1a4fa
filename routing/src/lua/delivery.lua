-- A delivery status for one outbound message: kept in conv:<id>:delivery,
-- never moving backwards, published live as a seq-less "delivery" event. With
-- an outbox entry, that entry is acknowledged in the same step, so a crash
-- cannot leave a sent message pending (and sent again).
-- ARGV: prefix, channel, conv, message_seq, status, provider_id, reason, now_ms,
-- provider_id_ttl_s, outbox_key, group, entry_id, named_by_provider_id ('1':
-- conv and seq come from the provider id itself, e.g. a bounce returning our
-- email Message-ID; only the message sent with that id counts), chat_order
-- (the entry's chat order list, which it leaves: the chat's next entry may go;
-- '' for none), chat pace key and interval_ms (the chat's next send counts
-- from now: pace_from_answer; '' and 0 for none), retry attempt and next_at
-- (with status 'pending' and no entry: a send that failed for a passing reason
-- and goes again then; '' for none), sent_at (with status 'sent': when the
-- send began, kept on the record for read_watermark.lua; '' for none),
-- failure code (with a reason: { code, channel } on the record as `failure`,
-- which the console translates; '' for none). A failed mail of unread web chat replies
-- marks every reply it carried. Answers
-- { 'changed', conv, seq, campaign id or '' } | { 'unchanged', conv, seq } | { 'unknown' }.
local channel, conv, mseq, status = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local provider_id, reason, now, ttl = ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
local outbox_key, group, entry, named = ARGV[10], ARGV[11], ARGV[12], ARGV[13] == '1'
local chat_order = ARGV[14] or ''
local pace_key, pace_interval = ARGV[15] or '', tonumber(ARGV[16] or '0') or 0
local retry_attempt, retry_next_at = tonumber(ARGV[17] or ''), tonumber(ARGV[18] or '')
local sent_at = tonumber(ARGV[19] or '')
local failure_code = ARGV[20] or ''
local rank = { pending = 0, sent = 1, delivered = 2, read = 3, failed = 4 }
-- Reasons are shown to agents: never a secret. A Telegram bot token is part
-- of its API URL's path (/bot<id>:<secret>/sendMessage), should an error
-- ever quote that URL.
reason = (string.gsub(reason, 'bot%d+:[%w_%-]+', 'bot…'))

if entry ~= '' then
  redis.call('XACK', outbox_key, group, entry)
  redis.call('HDEL', outbox_key .. ':attempts', entry)
  -- Off its chat's order, which it heads (found at once): the chat's next
  -- entry may go. An emptied list is deleted.
  if chat_order ~= '' then redis.call('LREM', chat_order, 1, entry) end
  pace_from_answer(pace_key, pace_interval)
end

-- A provider's status may overtake the answer to our send, which brings the
-- provider id (recorded by messenger_store::part_sent). Such a status is kept
-- a while under that id, for part_sent to apply; only the highest is kept,
-- and only statuses beyond 'sent', which the sender records itself.
local EARLY_STATUS_TTL_S = 120
local function keep_early_status()
  if provider_id == '' or rank[status] == nil or rank[status] <= rank.sent then return end
  local ekey = p .. 'early_status:' .. channel .. ':' .. provider_id
  local kept = redis.call('HGET', ekey, 'status')
  if kept and rank[kept] >= rank[status] then return end
  redis.call('HSET', ekey, 'status', status, 'reason', utf8_head(reason, 300))
  redis.call('EXPIRE', ekey, EARLY_STATUS_TTL_S)
end

if conv == '' then
  local ref = provider_id ~= '' and redis.call('GET', p .. 'provider_msg:' .. channel .. ':' .. provider_id)
  if not ref then
    keep_early_status()
    return { 'unknown' }
  end
  local colon = string.find(ref, ':', 1, true)
  conv, mseq = string.sub(ref, 1, colon - 1), string.sub(ref, colon + 1)
end
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'unknown' } end

local dkey = vkey .. ':delivery'

-- The live "delivery" event telling the consoles one message's record.
local function frame_of(seq, record)
  local frame = { type = 'event', event = 'delivery', conv = conv, message_seq = tonumber(seq),
    message_id = conv .. ':' .. seq, status = record.status, at = record.at or now }
  if record.provider_message_id then frame.provider_message_id = record.provider_message_id end
  if record.reason then frame.reason = record.reason end
  if record.failure then frame.failure = record.failure end
  if record.retrying then frame.retrying = record.retrying end
  return frame
end
local record = redis.call('HGET', dkey, mseq)
record = record and cjson.decode(record) or { status = 'pending' }
if named and string.lower(record.provider_message_id or '') ~= string.lower(provider_id) then return { 'unknown' } end
-- An erased customer's conversation (erase.lua) keeps the status only: no
-- provider id to find them by, no reason quoting their address.
if redis.call('HEXISTS', vkey, 'erased_at') == 1 then provider_id, reason = '', '' end
-- The provider id of the first 'sent', kept even when the status does not
-- move (a web chat reply mailed because it went unread is 'sent' already):
-- later statuses and bounces find the message by it.
local fields_added = false
if status == 'sent' and provider_id ~= '' and not named and not record.provider_message_id then
  record.provider_message_id = provider_id
  redis.call('SET', p .. 'provider_msg:' .. channel .. ':' .. provider_id, conv .. ':' .. mseq, 'EX', ttl)
  fields_added = true
end
-- When the send began, kept even when the status does not move (a status
-- that came before the send's answer moved it on already).
if status == 'sent' and sent_at and not record.sent_at then
  record.sent_at = sent_at
  fields_added = true
end
-- The agent sees why a reply is still pending: the latest failed attempt is
-- kept beside the mark (one note per message, replaced each attempt) and
-- published; the status does not move, and the next one clears it.
if status == 'pending' and retry_attempt and record.status == 'pending' then
  record.retrying = { reason = utf8_head(reason, 300), attempt = retry_attempt, next_at = retry_next_at }
  redis.call('HSET', dkey, mseq, cjson.encode(record))
  publish_event(delivery_header(conv), cjson.encode(frame_of(mseq, record)))
  return { 'changed', conv, mseq, '' }
end
-- Statuses arrive out of order (WhatsApp) and senders retry: only move forwards.
if record.status == 'failed' or rank[status] <= rank[record.status] then
  if fields_added then redis.call('HSET', dkey, mseq, cjson.encode(record)) end
  return { 'unchanged', conv, mseq }
end

-- Moves one message's record to `status` and tells the consoles; counts it
-- for its campaign, if any.
local header = delivery_header(conv)
local function move(seq, record)
  local before = record.status
  record.status, record.at, record.retrying = status, now, nil
  if reason ~= '' then
    record.reason = reason
    record.failure = failure_code ~= '' and { code = failure_code, channel = channel } or nil
  end
  redis.call('HSET', dkey, seq, cjson.encode(record))
  publish_event(header, cjson.encode(frame_of(seq, record)))
  -- A campaign's message (campaign.lua wrote its record): counted once per
  -- status it reached, skipped ones included (pending -> read counts sent and delivered).
  if record.campaign then
    local skey = p .. 'campaign:' .. record.campaign .. ':stats'
    if status == 'failed' then
      redis.call('HINCRBY', skey, 'failed', 1)
    else
      for _, s in ipairs({ 'sent', 'delivered', 'read' }) do
        if rank[s] > rank[before] and rank[s] <= rank[status] then redis.call('HINCRBY', skey, s, 1) end
      end
    end
    redis.call('ZADD', p .. 'campaigns:dirty', now, record.campaign)
  end
end

if provider_id ~= '' and not named then record.provider_message_id = provider_id end
move(mseq, record)
-- The mail of unread web chat replies (webchat_mail_fallback.lua) failed
-- (bounced, or refused for good): its newest reply's record lists every
-- reply it carried, and none of them reached the customer.
if status == 'failed' and record.mail_carried and (named or channel == record.emailed_via) then
  for _, seq in ipairs(record.mail_carried) do
    seq = tostring(seq)
    local other = seq ~= mseq and redis.call('HGET', dkey, seq)
    other = other and cjson.decode(other)
    if other and other.status ~= 'failed' then move(seq, other) end
  end
end
return { 'changed', conv, mseq, record.campaign or '' }
