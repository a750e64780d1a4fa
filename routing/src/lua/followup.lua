-- Claims the follow-up of a stored customer message (gateway/src/followup.cpp:
-- mentions, opt-out and CSAT, the bot's turn, routing) for a gateway that did
-- not store it itself: a retry of the message (a dedup hit: the first
-- attempt's answer was lost) or the routing timer's sweep (the gateway that
-- stored it died first). ingest.lua marks every message due in followup:due,
-- member 'conv|seq' scored by when it was stored; the gateway that ran the
-- follow-up removes the member (ZREM).
-- A claim scores the member past now + 0.5: ingest scores whole
-- milliseconds, so the half tells a claimed member from one nobody claimed
-- yet (the gateway that stored it does not claim it: a command for every
-- message). The sweep takes a member whose score is a grace old; a
-- retry also takes one nobody claimed that is `retry_after` old (a retry
-- sooner is most likely the sender's while the first run goes on). Every
-- step is idempotent per message all the same (followup.cpp).
-- Tries are counted (followup:tries) and the member rescored before
-- anything that may fail: a follow-up that fails every time waits longer
-- each time (min(grace * 2^tries, 1 h)) and never holds up the others;
-- after max_tries it goes to followup:dead, scored by when it was given up
-- (kept 30 days).
-- ARGV: prefix, member, now_ms, grace_ms, from_retry ('1': a dedup hit),
-- retry_after_ms, max_tries.
-- Answers {} when not claimed (done already, someone else's, not yet);
-- 'gone' alone when the conversation or the message is no more (the member
-- is dropped); { 'dead', tries } when given up; else { status, customer_id,
-- channel, kind, routed, owes_csat, log frame, resolved_at, assignee }.
local member, now, grace, from_retry = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local retry_after, max_tries = tonumber(ARGV[6]), tonumber(ARGV[7])
local key, tries_key = p .. 'followup:due', p .. 'followup:tries'
local score = tonumber(redis.call('ZSCORE', key, member))
if not score then return {} end
local unclaimed = score == math.floor(score)
if score > now - grace and not (from_retry and unclaimed and score <= now - retry_after) then return {} end
local tries = redis.call('HINCRBY', tries_key, member, 1)
if tries > max_tries then
  redis.call('ZREM', key, member)
  redis.call('HDEL', tries_key, member)
  redis.call('ZADD', p .. 'followup:dead', now, member)
  -- Kept for a look for 30 days (the error log names each one), then dropped.
  redis.call('ZREMRANGEBYSCORE', p .. 'followup:dead', '-inf', now - 30 * 86400000)
  return { 'dead', tostring(tries - 1) }
end
redis.call('ZADD', key, now + math.min(grace * 2 ^ tries, 3600000) - grace + 0.5, member)
local conv, seq = string.match(member, '^(.+)|(%d+)$')
local v = conv and redis.call('HMGET', conv_key(conv), 'status', 'customer_id', 'channel', 'kind', 'routed',
  'resolved_at', 'assignee') or {}
local entry = v[1] and redis.call('XRANGE', conv_key(conv) .. ':log', seq .. '-1', seq .. '-1') or {}
if #entry == 0 then
  redis.call('ZREM', key, member)
  redis.call('HDEL', tries_key, member)
  return { 'gone' }
end
-- A rating or a comment the customer owes on this channel (as ingest.lua
-- reads it), or this message was one: its step answers it again
-- (aftersales.lua's followup:step), though nothing is owed any more.
local cust, channel = v[2] or '', v[3] or ''
local owes = redis.call('EXISTS', p .. 'csat:pending:' .. cust .. ':' .. channel,
  p .. 'csat:comment:' .. cust .. ':' .. channel, p .. 'followup:step:' .. member) > 0
return { v[1], cust, channel, v[4] or '', v[5] or '0', owes and '1' or '0', entry[1][2][2], v[6] or '', v[7] or '' }
