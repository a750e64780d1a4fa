-- "End chat" in the widget (DELETE /api/v1/webchat/sessions,
-- gateway/src/webchat.cpp): the visitor's tokens are worthless from now on,
-- every instance closes their sockets, and the open conversation of the
-- visitor's customer on this channel logs a `visitor_left` event once, so the
-- agents know their next reply reaches the customer only by email (when the
-- channel mails unread replies and the file's email is proved, as
-- webchat_mail_fallback.lua requires), or not at all. Like a reaction, the
-- event changes nothing else (status, queue, SLA, list order) and its header
-- names no customer: it goes to the consoles only.
-- ARGV: prefix, channel, visitor, now_ms, ended_ttl_s, mails ('1': the channel
-- has an email_fallback_channel).
-- Answers { 'ended', conv, seq } ('' when no conversation is open) | { 'already' }.
local channel, visitor, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
-- NX: two End chats at once (or a retry) log one event.
local first = redis.call('SET', p .. 'webchat:ended:' .. channel .. ':' .. visitor, now, 'EX', ARGV[5], 'NX')
redis.call('PUBLISH', p .. 'webchat:ended', channel .. ':' .. visitor)
if not first then return { 'already' } end

local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. visitor)
local conv = cust and redis.call('GET', p .. 'cust:' .. cust .. ':open:' .. channel)
if not conv then return { 'ended', '', '' } end
local h = redis.call('HMGET', conv_key(conv), 'status', 'customer_id')
if h[2] ~= cust or h[1] == 'resolved' or h[1] == 'closed' then return { 'ended', '', '' } end

local by_email = ARGV[6] == '1' and email_proved(cust, redis.call('HGET', p .. 'cust:' .. cust, 'email'))
local seq = redis.call('HINCRBY', conv_key(conv), 'seq', 1)
emit(conv, seq, 'visitor_left', { channel = channel, by_email = by_email, actor = 'customer', at = now }, '')
return { 'ended', conv, tostring(seq) }
