-- The bot's turn after a customer message, atomically: only while the
-- conversation is still with the bot and no person has written in it.
-- ARGV: prefix, conv, bot_state_json, reply_text, buttons_json, handoff (0/1),
-- tags (comma-separated), feedback ('' | 'yes' | 'no'), now_ms, bot_name,
-- the seq of the customer message answered ('0': not said).
-- A message is answered once: a follow-up run again after it partly ran
-- (gateway/src/followup.cpp), or one for an older message than the last
-- answered, is skipped (bot_answered_seq), as is one the customer unsent.
local conv, state, text, buttons_json = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local handoff, tags, feedback, now, bot_name = ARGV[6] == '1', ARGV[7], ARGV[8], tonumber(ARGV[9]), ARGV[10]
local answers = tonumber(ARGV[11] or '') or 0
local vkey = conv_key(conv)
local h = redis.call('HMGET', vkey, 'status', 'human_replied', 'bot_answered_seq')
if h[1] ~= 'bot' or h[2] or (answers > 0 and tonumber(h[3] or '0') >= answers) then
  return { 'skipped' }
end
-- The customer unsent the message before the bot's turn came (unsend_message.lua).
if answers > 0 then
  local e = redis.call('XRANGE', vkey .. ':log', answers .. '-1', answers .. '-1')[1]
  if e and string.find(e[2][2], '"deleted_at":', 1, true) then return { 'skipped' } end
end
redis.call('HSET', vkey, 'bot_state', state)
if answers > 0 then redis.call('HSET', vkey, 'bot_answered_seq', answers) end
-- Deflection figures for reports: how many answers helped.
if feedback == 'yes' then redis.call('HINCRBY', p .. 'stats:bot', 'helpful', 1); redis.call('HSET', vkey, 'bot_helpful', '1') end
if feedback == 'no' then redis.call('HINCRBY', p .. 'stats:bot', 'unhelpful', 1); redis.call('HSET', vkey, 'bot_helpful', '0') end
local seq = 0
if text ~= '' then
  local buttons = nil
  if buttons_json ~= '' then buttons = cjson.decode(buttons_json) end
  seq = append_outbound(conv, 'bot', '', bot_name, '', text, now, true, buttons)
end
if handoff then
  redis.call('HSET', vkey, 'topic_tags', tags)
  redis.call('HINCRBY', p .. 'stats:bot', 'handoffs', 1)
  seq = change_status(conv, 'queued', 'bot', now, { tags = tags })
  wait_for_people(conv, now)
end
return { 'stored', tostring(seq) }
