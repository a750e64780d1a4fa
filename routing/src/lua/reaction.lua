-- A customer's reaction to a message (WhatsApp, Messenger, Instagram), or its
-- taking back (emoji ''): an event in the conversation's log for the agents.
-- Nothing else changes: the conversation keeps its status, its place in the
-- queue and in the list, and no one is asked to answer; its pub/sub header
-- names no customer, so it goes to the consoles only. The newest reaction per
-- message is kept in conv:<id>:reactions (message seq -> {"emoji","at"}): one
-- older than it (a redelivery out of order) changes nothing.
-- ARGV: prefix, channel, provider_message_id (of the message reacted to),
-- emoji, reacted_at_ms, dedup_key, dedup_ttl_s.
-- Answers { 'stored', conv, seq } | { 'unchanged', conv } (the same emoji, or
-- an older reaction) | { 'duplicate' } | { 'unknown' } (a message we do not know).
local channel, provider_id, emoji = ARGV[2], ARGV[3], ARGV[4]
local at, dedup_key, dedup_ttl = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])

local dkey, seen = dedup_of(channel, dedup_key)
if seen then return { 'duplicate' } end

local conv, mseq = message_by_provider_id(channel, provider_id)
if not conv then return { 'unknown' } end
local vkey = conv_key(conv)

local function remembered(answer)
  if dkey then redis.call('SET', dkey, conv, 'EX', dedup_ttl) end
  return answer
end

local rkey = vkey .. ':reactions'
local previous = redis.call('HGET', rkey, mseq)
previous = previous and cjson.decode(previous)
if previous and (previous.at > at or previous.emoji == emoji) then return remembered({ 'unchanged', conv }) end
if not previous and emoji == '' then return remembered({ 'unchanged', conv }) end
redis.call('HSET', rkey, mseq, cjson.encode({ emoji = emoji, at = at }))

local seq = redis.call('HINCRBY', vkey, 'seq', 1)
local reaction = { message_seq = tonumber(mseq), message_id = conv .. ':' .. mseq, emoji = emoji }
if previous and previous.emoji ~= '' then reaction.previous = previous.emoji end
emit(conv, seq, 'reaction', { reaction = reaction, actor = 'customer', at = at }, '')
return remembered({ 'stored', conv, tostring(seq) })
