-- When a web chat conversation's unread agent replies are mailed
-- (gateway/src/webchat_mail_fallback.cpp): `after` past the newest of them,
-- so a burst goes as one mail, but no later than `max_wait` past the oldest,
-- so an agent who keeps writing to a customer who left does not hold the
-- mail back for as long as they write.
-- webchat:mail_since (hash conv -> ms) keeps when the oldest unread reply
-- came while the conversation is in webchat:mail_due; the claim
-- (webchat_mail_fallback.lua) drops both, and the next reply starts anew. The
-- claim also re-times the entry by the replies still unread.
-- ARGV: prefix, conv, reply_at (ms), after_ms, max_wait_ms. Answers the due time (ms).
local conv, reply_at = ARGV[2], ARGV[3]
local since_key, due_key = p .. 'webchat:mail_since', p .. 'webchat:mail_due'
redis.call('HSETNX', since_key, conv, reply_at)
local since = tonumber(redis.call('HGET', since_key, conv))
local due = math.min(tonumber(reply_at) + tonumber(ARGV[4]), since + tonumber(ARGV[5]))
-- GT: replies handled out of order (two instances' outboxes) never move it earlier.
redis.call('ZADD', due_key, 'GT', due, conv)
return tonumber(redis.call('ZSCORE', due_key, conv))
