-- Automatic mail (a bounce, an out-of-office, list mail): never a customer
-- writing, so it never makes a customer file or a conversation, never wakes
-- the bot and never changes a conversation's status (a resolved one stays
-- resolved). Kept in the conversation it threads to, when its sender is that
-- conversation's customer or the caller vouches for it (a reply token, or a
-- bounce naming one of our Message-IDs): as the customer's message marked
-- automatic, or a system entry when someone else sent it. Otherwise noted in
-- the channel's capped stream email_automatic:<channel> (from, subject,
-- reason, message_id, at) so that it is not lost.
-- ARGV: prefix, channel, conv ('' when none), any_sender ('1'), sender,
-- dedup_key, dedup_ttl_s, now_ms, message_json (as for ingest), subject,
-- reason, message_id, stream_maxlen, then the text's beginning and '1' when
-- it has attachments (the list's preview, as for ingest). Answers { 'stored', conv, seq } |
-- { 'noted' } | { 'duplicate' } | { 'duplicate', conv, seq } (where the first
-- one was stored: a retry files the attachments it names) | { 'erased' } (it
-- threads to an erased customer's conversation: a bounce of the reply mailed
-- before the erasure, naming them and their address; kept nowhere, not even noted).
local channel, conv, any_sender, sender = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local dedup_key, dedup_ttl, now, message_json = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local subject, reason, message_id, maxlen = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local preview_text, attachments = ARGV[14] or '', ARGV[15] == '1'

local dkey, seen = dedup_of(channel, dedup_key)
if seen then
  local first, seq = string.match(seen, '^(.+)|(%d+)$')
  return first and { 'duplicate', first, seq } or { 'duplicate' }
end

local author
if conv ~= '' then
  -- mail_channel: a web chat conversation whose unread replies were mailed from this channel.
  local t = redis.call('HMGET', conv_key(conv), 'channel', 'customer_id', 'mail_channel', 'erased_at')
  if t[4] then
    if dkey then redis.call('SET', dkey, '', 'EX', dedup_ttl) end
    return { 'erased' }
  end
  local from_customer = t[2] and redis.call('GET', p .. 'ident:' .. channel .. ':' .. sender) == t[2]
  if (t[1] == channel or t[3] == channel) and (from_customer or any_sender) then
    author = from_customer and 'customer' or 'system'
  end
end

if not author then
  redis.call('XADD', p .. 'email_automatic:' .. channel, 'MAXLEN', '~', maxlen, '*', 'from', sender,
    'subject', subject, 'reason', reason, 'message_id', message_id, 'at', now)
  if dkey then redis.call('SET', dkey, '', 'EX', dedup_ttl) end
  return { 'noted' }
end

local vkey = conv_key(conv)
local seq = tostring(redis.call('HINCRBY', vkey, 'seq', 1))
redis.call('HSET', vkey, 'updated_at', now, 'last_message', last_message_field(seq, now, author, preview_text, attachments))
emit_json(conv, seq, 'message', '"message":' .. inbound_message(message_json, conv, seq, author, channel, now))
if dkey then redis.call('SET', dkey, conv .. '|' .. seq, 'EX', dedup_ttl) end
return { 'stored', conv, seq }
