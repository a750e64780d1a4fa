-- "End chat" in the widget (DELETE /api/v1/webchat/sessions,
-- gateway/src/webchat.cpp): the visitor's tokens are worthless from now on,
-- every instance closes their sockets, and the open conversation of the
-- visitor's customer on this channel logs a `visitor_left` event once, so the
-- agents know their next reply reaches the customer only by email (when the
-- channel mails unread replies and the file's email is proved, as
-- webchat_mail_fallback.lua requires), or not at all. Like a reaction, the
-- event changes nothing else (status, queue, SLA, list order) and its header
-- names no customer: it goes to the consoles only.
-- With a transcript (the customer asked for a copy, webchat_transcript.cpp)
-- it is mailed first, through that email channel, to `email` while that is
-- proved the customer's: a mail outside any conversation, as a code's.
-- ARGV: prefix, channel, visitor, now_ms, ended_ttl_s, email channel (the
-- channel's email_fallback_channel, '' without one); transcript: email,
-- subject, text ('' none).
-- Answers { 'ended', conv, seq, mailed } (conv and seq '' when no
-- conversation is open; mailed '1' when the transcript was queued) | { 'already' }.
local channel, visitor, now, mail_channel = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[6]
local transcript_to, subject, text = ARGV[7] or '', ARGV[8] or '', ARGV[9] or ''
local ident = p .. 'ident:' .. channel .. ':' .. visitor
-- NX: two End chats at once (or a retry) log one event.
local first = redis.call('SET', p .. 'webchat:ended:' .. channel .. ':' .. visitor, now, 'EX', ARGV[5], 'NX')
redis.call('PUBLISH', p .. 'webchat:ended', channel .. ':' .. visitor)
if not first then return { 'already' } end

local cust = redis.call('GET', ident)
local mailed = '0'
if cust and mail_channel ~= '' and text ~= '' and email_proved(cust, transcript_to) then
  queue_standalone_mail('transcript', mail_channel, transcript_to, subject, text)
  mailed = '1'
end

local conv = cust and redis.call('GET', p .. 'cust:' .. cust .. ':open:' .. channel)
if not conv then return { 'ended', '', '', mailed } end
local h = redis.call('HMGET', conv_key(conv), 'status', 'customer_id')
if h[2] ~= cust or h[1] == 'resolved' or h[1] == 'closed' then return { 'ended', '', '', mailed } end

local by_email = mail_channel ~= '' and email_proved(cust, redis.call('HGET', p .. 'cust:' .. cust, 'email'))
local seq = redis.call('HINCRBY', conv_key(conv), 'seq', 1)
emit(conv, seq, 'visitor_left', { channel = channel, by_email = by_email, actor = 'customer', at = now }, '')
return { 'ended', conv, tostring(seq), mailed }
