-- A customer edited a message they sent (Telegram edited_message, Messenger
-- message_edit). The log is append-only, so the edit is a new "message" event
-- (next seq, "edit": true) carrying the same message (same id and seq) with
-- the new text and edited_at: clients replace the earlier version, the console
-- shows it "(edited)". The newest text is also kept in conv:<id>:edits
-- (message seq -> {"text","edited_at"}); edits arriving out of order never
-- replace a newer one.
-- ARGV: prefix, channel, provider_message_id, text, edited_at_ms, now_ms,
-- dedup_key, dedup_ttl_s.
local channel, provider_id, text = ARGV[2], ARGV[3], ARGV[4]
local edited_at, now, dedup_key, dedup_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])

local dkey, seen = dedup_of(channel, dedup_key)
if seen then return { 'duplicate' } end

local conv, mseq = message_by_provider_id(channel, provider_id)
if not conv then return { 'unknown' } end
local vkey = conv_key(conv)

local ekey = vkey .. ':edits'
local previous = redis.call('HGET', ekey, mseq)
if previous and (cjson.decode(previous).edited_at or 0) >= edited_at then
  if dkey then redis.call('SET', dkey, conv, 'EX', dedup_ttl) end
  return { 'stale', conv }
end
redis.call('HSET', ekey, mseq, cjson.encode({ text = text, edited_at = edited_at }))

local original = redis.call('XRANGE', vkey .. ':log', mseq .. '-1', mseq .. '-1')[1]
local msg = original and cjson.decode(original[2][2]).message
if not msg then
  msg = { id = conv .. ':' .. mseq, conversation_id = conv, seq = tonumber(mseq), direction = 'in',
    author = 'customer', channel = channel, provider_message_id = provider_id }
end
msg.text, msg.edited_at = text, edited_at
-- Its files as Pasokh's copies, once they are stored (meta_media.lua), not the URLs that expire.
local copies = redis.call('HGET', vkey .. ':copies', mseq)
if copies then msg.attachments = cjson.decode(copies) end

local seq = redis.call('HINCRBY', vkey, 'seq', 1)
redis.call('HSET', vkey, 'updated_at', now)
-- The conversation list shows the new text when this is its newest message.
local last = last_message_view(redis.call('HGET', vkey, 'last_message') or '')
if last and tostring(last.seq) == mseq then
  redis.call('HSET', vkey, 'last_message', last_message_field(mseq, last.at, last.author, text, last.attachment))
end
emit(conv, seq, 'message', { message = msg, edit = true })
if dkey then redis.call('SET', dkey, conv, 'EX', dedup_ttl) end
return { 'stored', conv, tostring(seq) }
