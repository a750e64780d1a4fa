-- Mails a web chat visitor the code that proves the email they gave is
-- theirs (gateway/src/webchat_verify.cpp), through the email channel's
-- outbox. Limited, so that the form cannot be used to mail people: one mail
-- per visitor in visitor_gap_s, address_limit per address in
-- address_window_s. The code is kept only as its hash, for code_ttl_s, on
-- this visitor (a newer code replaces it, and its tries); the visitor typing
-- it runs customer_merge.lua 'verify_code'.
-- ARGV: prefix, now_ms, channel, visitor, email (as typed), email key,
-- language, code hash, code_ttl_s, visitor_gap_s, address_limit,
-- address_window_s, email channel, subject, text, wrong codes allowed a day.
-- Answers { 'sent' } | { 'rate_limited' }.
local channel, visitor, email, key, language = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local hash, ttl, gap, limit, window = ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11]), ARGV[12]
local mail_channel, subject, text = ARGV[13], ARGV[14], ARGV[15]

local gap_key = p .. 'webchat:verify_gap:' .. channel .. ':' .. visitor
local address_key = p .. 'webchat:verify_count:' .. key
-- Wrong codes typed for this address today (customer_merge.lua verify_code):
-- past wrong_limit it gets no more codes, so codes cannot be guessed day after day.
local wrong = tonumber(redis.call('GET', p .. 'webchat:verify_wrong:' .. key) or '0')
if redis.call('EXISTS', gap_key) == 1 or tonumber(redis.call('GET', address_key) or '0') >= limit
    or wrong >= tonumber(ARGV[16]) then
  return { 'rate_limited' }
end
redis.call('SET', gap_key, '1', 'EX', gap)
if redis.call('INCR', address_key) == 1 then redis.call('EXPIRE', address_key, window) end

-- Named by the visitor: an erasure of their file finds it (erase.lua).
local ckey = p .. 'webchat:verify_code:' .. channel .. ':' .. visitor
redis.call('HSET', ckey, 'code', hash, 'key', key, 'language', language, 'at', ARGV[2], 'tries', 0)
redis.call('EXPIRE', ckey, ttl)
queue_standalone_mail('verify', mail_channel, email, subject, text)
return { 'sent' }
