-- A private note by an agent: an event in the conversation's log, published
-- to the consoles only. It is never queued in an outbox, and its pub/sub
-- header names no customer, so no customer-facing session is sent it.
-- ARGV: prefix, conv, author_id, author_name, client_id, text, now_ms.
local conv, author_id, author_name, client_id, text, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'not_found' } end
if client_id ~= '' then
  local prev = redis.call('HGET', vkey .. ':clients', client_id)
  if prev then return { 'duplicate', prev } end
end
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
remember_client_id(vkey, client_id, seq)
local note = { id = conv .. ':' .. seq, author_id = author_id, author_name = author_name, text = text, created_at = now }
if client_id ~= '' then note.client_id = client_id end
emit(conv, seq, 'note', { note = note, actor = author_id, at = now }, '')
return { 'stored', tostring(seq) }
