-- Mails a web chat conversation's unread agent replies to the email its
-- customer left and proved theirs (gateway/src/webchat_mail_fallback.cpp):
-- an address only typed into the widget's form proves nothing (anyone can
-- type anyone's, and have our answers mailed there), so the file's email is
-- mailed only while it is one of the file's verified keys (a mail they sent,
-- an import, the link a visitor confirmed: customer_merge.lua 'verify', which
-- makes their chats with unread replies due again). Every instance
-- sweeps the due set; the claim is this one atomic call: the conversation
-- leaves the due set only here, so its replies are mailed once.
-- ARGV: prefix, conv, now_ms, email channel, mail text, the newest and the
-- oldest unread reply's time (ms; '' with no replies), after_ms, max_wait_ms
-- (as webchat_mail_schedule.lua), then the seqs of the replies the text holds
-- (oldest first; none: the caller found nothing unread).
-- Answers { 'queued', email } | { 'not_due' } (a later reply moved it on, or
-- another instance took it) | { 'done' } (nothing left to mail: off the set)
-- | { 'stale' } (the customer read some since: compose again).
local conv, now, mail_channel, text = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local newest_at, oldest_at = ARGV[6], ARGV[7]
local seqs = { unpack(ARGV, 10) }
local due_key, since_key = p .. 'webchat:mail_due', p .. 'webchat:mail_since'
-- The customer may have read the older replies since they were scheduled:
-- the unread ones are due by their own times (never earlier: GT; only while
-- still due: XX, another instance may have just mailed them).
if newest_at ~= '' then
  local retimed = math.min(tonumber(newest_at) + tonumber(ARGV[8]), tonumber(oldest_at) + tonumber(ARGV[9]))
  if redis.call('ZADD', due_key, 'XX', 'GT', 'CH', retimed, conv) == 1 then
    redis.call('HSET', since_key, conv, oldest_at)
  end
end
local due = redis.call('ZSCORE', due_key, conv)
if not due or tonumber(due) > now then return { 'not_due' } end
-- Off the due set, and so off its batch start (webchat_mail_schedule.lua):
-- the next reply starts a new batch.
local function unschedule()
  redis.call('ZREM', due_key, conv)
  redis.call('HDEL', since_key, conv)
end

-- The file's email, when the customer proved it theirs (its key is the file's).
local function proved_email(cust)
  local email = redis.call('HGET', p .. 'cust:' .. cust, 'email')
  if not email_proved(cust, email) then return nil end
  return email
end

local vkey = conv_key(conv)
local h = redis.call('HMGET', vkey, 'customer_id', 'customer_read_seq', 'mail_fallback_seq', 'status')
local handled = math.max(tonumber(h[2] or '0') or 0, tonumber(h[3] or '0') or 0)
local email = h[1] and proved_email(h[1])
local last = tonumber(seqs[#seqs] or '0')
if last <= handled or not email or h[4] == 'closed' then
  unschedule()
  return { 'done' }
end
if tonumber(seqs[1]) <= handled then return { 'stale' } end

unschedule()
-- mail_channel: the customer's answer to this mail continues this
-- conversation (ingest.lua accepts a thread on it from that channel).
-- mail_to: the address it went to; an answer from it continues the
-- conversation even when that address belongs to another customer file.
redis.call('HSET', vkey, 'mail_fallback_seq', last, 'mail_channel', mail_channel, 'mail_to', string.lower(email))
-- The id of the newest reply it carries: the Message-ID names conversation
-- and seq, and that reply's record lists all it carries (mail_carried), so a
-- bounce or a failed send marks each of them failed (delivery.lua).
local out = { message_id = conv .. ':' .. last, conversation_id = conv, seq = last, channel = mail_channel,
  kind = 'email', recipient = email, text = text, automatic = false }
queue_outbound(mail_channel, out)

-- The console shows each mailed reply as sent by email (its delivery record
-- and a live delivery event; the status itself is the widget's).
local dkey, header = vkey .. ':delivery', delivery_header(conv)
local carried = {}
for i, s in ipairs(seqs) do carried[i] = tonumber(s) end
for _, s in ipairs(seqs) do
  local record = redis.call('HGET', dkey, s)
  record = record and cjson.decode(record) or { status = 'sent' }
  record.emailed_at, record.emailed_via = now, mail_channel
  if tonumber(s) == last then record.mail_carried = carried end
  redis.call('HSET', dkey, s, cjson.encode(record))
  local frame = { type = 'event', event = 'delivery', conv = conv, message_seq = tonumber(s), message_id = conv .. ':' .. s,
    status = record.status, at = now, emailed_at = now }
  publish_event(header, cjson.encode(frame))
end
return { 'queued', email }
