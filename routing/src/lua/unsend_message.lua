-- A customer unsent a message they sent (Instagram `is_deleted`): what they
-- took back is deleted, so its text, quoted original, button payload and
-- attachments leave every frame of the log that carries it (the
-- message and its edits); the entries keep their seq, times, direction and
-- author (reports and read marks count them as before) and gain
-- `deleted_at`. A stream cannot be rewritten in place: the log is copied,
-- those frames changed, and the copy replaces it (a conversation's whole log
-- each time: unsends are rare). A retention or erasure scrub going on
-- (erase.lua's <log>:scrub) gets the same change, so its RENAME brings
-- nothing back. The newest text in conv:<id>:edits, the list's preview and
-- the search index (search_forget, then the indexer reads the log again from
-- its start) lose it too, and the provider id no longer finds the message (a
-- late edit or reaction of it is "unknown"). Then a "message" event ("edit":
-- true, as edit_message.lua logs an edit) carries the message without text
-- and with deleted_at, so the consoles replace it live.
-- ARGV: prefix, channel, provider_message_id, deleted_at_ms, now_ms,
-- dedup_key, dedup_ttl_s.
-- Answers { 'stored', conv, seq } | { 'duplicate' } (this unsend was seen) |
-- { 'unknown' } (a message we do not know, not the customer's, or one
-- unsent already: its provider id is forgotten then). A message not known
-- yet may still come (handled beside this unsend, or sent again by Meta
-- after a failure): a marker (unsent_marker) for dedup_ttl_s has ingest.lua
-- store it unsent.
local channel, provider_id = ARGV[2], ARGV[3]
local deleted_at, now, dedup_key, dedup_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])

local dkey, seen = dedup_of(channel, dedup_key)
if seen then return { 'duplicate' } end

local conv, mseq = message_by_provider_id(channel, provider_id)
if not conv then
  redis.call('SET', unsent_marker(channel, provider_id), deleted_at, 'EX', dedup_ttl)
  return { 'unknown' }
end
local vkey = conv_key(conv)
-- Only a customer's own message (the provider id of one of ours names it too: delivery.lua).
local original = redis.call('XRANGE', vkey .. ':log', mseq .. '-1', mseq .. '-1')[1]
local stored = original and cjson.decode(original[2][2]).message
if type(stored) ~= 'table' or stored.direction ~= 'in' then return { 'unknown' } end
local message_id = conv .. ':' .. mseq
-- How the message's id reads inside a frame (inbound_message writes it so):
-- only the frames holding it are decoded.
local id_member = '"id":' .. json_string(message_id)

-- The frame without what the customer took back; nil when it does not carry the message.
local function without_message(raw)
  if not string.find(raw, id_member, 1, true) then return nil end
  local f = cjson.decode(raw)
  local m = f.message
  if f.event ~= 'message' or type(m) ~= 'table' or m.id ~= message_id then return nil end
  drop_stored_copies(m.attachments)
  take_back(m, deleted_at)
  return cjson.encode(f), m
end

-- Rewrites `log` through a copy; answers the message as its first frame has it now.
local function rewrite(log)
  local copy, msg = log .. ':unsend', nil
  redis.call('DEL', copy)
  for _, e in ipairs(redis.call('XRANGE', log, '-', '+')) do
    local frame, m = without_message(e[2][2])
    msg = msg or m
    redis.call('XADD', copy, e[1], e[2][1], frame or e[2][2])
  end
  if redis.call('EXISTS', copy) == 1 then redis.call('RENAME', copy, log) end
  return msg
end

local msg = rewrite(vkey .. ':log')
if redis.call('EXISTS', vkey .. ':log:scrub') == 1 then rewrite(vkey .. ':log:scrub') end

redis.call('DEL', p .. 'provider_msg:' .. channel .. ':' .. provider_id)
-- Its copies' bytes went with the frames naming them; a copy still on the way is refused (meta_media.lua).
redis.call('HDEL', vkey .. ':edits', mseq)
redis.call('HDEL', vkey .. ':copies', mseq)
local last = last_message_view(redis.call('HGET', vkey, 'last_message') or '')
if last and tostring(last.seq) == mseq then
  redis.call('HSET', vkey, 'last_message', last_message_field(mseq, last.at, last.author, '', nil, deleted_at))
end
-- Search: the conversation's words go now; the indexer reads its log again
-- from the start (-1: nothing indexed, and a pass that read the log before
-- this is not applied: search.lua compares the seq it started from).
search_forget('t', conv)
redis.call('HSET', p .. 'search:seq', conv, -1)
redis.call('ZADD', p .. 'search:dirty', now, conv)

-- Not updated_at: the conversation keeps its place in the lists.
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
emit(conv, seq, 'message', { message = msg, edit = true })
if dkey then redis.call('SET', dkey, conv, 'EX', dedup_ttl) end
return { 'stored', conv, tostring(seq) }
