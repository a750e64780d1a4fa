-- A customer unsent a message they sent (Instagram `is_deleted`): what they
-- took back is deleted, so its text, quoted original, button payload and
-- attachments leave every frame of the log that carries it (the
-- message and its edits); the entries keep their seq, times, direction and
-- author (reports and read marks count them as before) and gain
-- `deleted_at`. A stream cannot be rewritten in place: the log is copied,
-- those frames changed, and the copy replaces it, in calls of at most
-- `budget` entries (rewrite_log_step, prelude.lua), so a long conversation
-- never holds Redis for long; the caller calls again while the answer is
-- 'more'. The unsends of one conversation share that pass
-- (conv:<id>:unsend: message seq -> what its unsend said); one that comes
-- after the pass copied its message starts the pass over. The call that
-- ends the pass finishes every message it took back: the newest text in
-- conv:<id>:edits, its copies, the list's preview and the search index
-- (search_forget, then the indexer reads the log again from its start) lose
-- it, the provider id no longer finds the message (a late edit or reaction
-- of it is "unknown"), and a "message" event ("edit": true, as
-- edit_message.lua logs an edit) carries the message without text and with
-- deleted_at, so the consoles replace it live. Until then the message is
-- as it was (a frame logged meanwhile, an edit or its files' copies, is
-- taken back too: the pass reads to the log's end). A retention or erasure
-- scrub going on (erase.lua's <log>:scrub) starts over once the log is
-- replaced, so its RENAME brings nothing back; one that ends first (of any
-- version: a mark on the log tells) starts this pass over. The copy and the
-- pending unsends expire after dedup_ttl_s unless a call renews them.
-- ARGV: prefix, channel, provider_message_id, deleted_at_ms, now_ms,
-- dedup_key, dedup_ttl_s, budget (log entries a call), then '' or, going on
-- after 'more', the "<conv>:<seq>" that answer named.
-- Answers { 'stored', conv, seq } | { 'more', conv, message seq } (call
-- again with it) | { 'duplicate' } (this unsend was seen) | { 'unknown' } (a
-- message we do not know, not the customer's, or one unsent already: its
-- provider id is forgotten then). A message not known yet may still come
-- (handled beside this unsend, or sent again by Meta after a failure): a
-- marker (unsent_marker) for dedup_ttl_s has ingest.lua store it unsent.
local channel, provider_id = ARGV[2], ARGV[3]
local deleted_at, now, dedup_key, dedup_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local budget, going_on = tonumber(ARGV[8]), ARGV[9] or ''

local conv, mseq
if going_on ~= '' then
  conv, mseq = string.match(going_on, '^(.*):(%d+)$')
  -- Finished by the call that ended the pass (another unsend in this conversation).
  if redis.call('HEXISTS', conv_key(conv) .. ':unsend', mseq) == 0 then return { 'stored', conv } end
else
  local _, seen = dedup_of(channel, dedup_key)
  if seen then return { 'duplicate' } end
  conv, mseq = message_by_provider_id(channel, provider_id)
  if not conv then
    redis.call('SET', unsent_marker(channel, provider_id), deleted_at, 'EX', dedup_ttl)
    return { 'unknown' }
  end
end
local vkey = conv_key(conv)
-- The copy and the progress field have names the single-call unsend of
-- earlier versions never touches (it used <log>:unsend), so a rolling
-- upgrade cannot mix its copy into this pass.
local log, pending, copy = vkey .. ':log', vkey .. ':unsend', vkey .. ':unsend:log'

if going_on == '' and redis.call('HEXISTS', pending, mseq) == 0 then
  -- Only a customer's own message (the provider id of one of ours names it too: delivery.lua).
  local original = redis.call('XRANGE', log, mseq .. '-1', mseq .. '-1')[1]
  local stored = original and cjson.decode(original[2][2]).message
  if type(stored) ~= 'table' or stored.direction ~= 'in' then return { 'unknown' } end
  redis.call('HSET', pending, mseq, cjson.encode({ deleted_at = deleted_at, channel = channel,
    provider_id = provider_id, dedup_key = dedup_key, dedup_ttl = dedup_ttl }))
  -- Frames holding a message come at its seq or after: a pass past it starts over.
  if tonumber(redis.call('HGET', vkey, 'unsend_pass_at') or '0') >= tonumber(mseq) then
    redis.call('DEL', copy)
    redis.call('HSET', vkey, 'unsend_pass_at', 0)
  end
end

-- The messages this pass takes back, by seq; a frame is decoded only when it
-- holds one's id as inbound_message writes it.
local taken = {}
local h = redis.call('HGETALL', pending)
for i = 1, #h, 2 do
  local t = cjson.decode(h[i + 1])
  t.seq, t.id = tonumber(h[i]), conv .. ':' .. h[i]
  t.member = '"id":' .. json_string(t.id)
  taken[#taken + 1] = t
end
table.sort(taken, function(a, b) return a.seq < b.seq end)

local function without_taken(seq, raw)
  for _, t in ipairs(taken) do
    if seq >= t.seq and string.find(raw, t.member, 1, true) then
      local f = cjson.decode(raw)
      local m = f.message
      if f.event == 'message' and type(m) == 'table' and m.id == t.id then
        drop_stored_copies(m.attachments)
        take_back(m, t.deleted_at)
        return cjson.encode(f)
      end
    end
  end
  return raw
end

-- The pass marks the log and its copy with a consumer group nothing reads
-- (PASS_MARK): a log replaced under the pass (by any version's scrub or
-- unsend: a RENAME brings a stream without it) or a copy gone or replaced
-- lacks it, and the pass starts over, so its RENAME never brings back
-- words scrubbed meanwhile nor drops entries.
local PASS_MARK = 'unsend-pass'
local function marked(key)
  if redis.call('EXISTS', key) == 0 then return false end
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    for j = 1, #g, 2 do
      if g[j] == 'name' and g[j + 1] == PASS_MARK then return true end
    end
  end
  return false
end
local at = tonumber(redis.call('HGET', vkey, 'unsend_pass_at') or '0')
if at == 0 or not marked(copy) or not marked(log) then
  at = 0
  redis.call('DEL', copy)
  redis.call('XGROUP', 'CREATE', copy, PASS_MARK, '0', 'MKSTREAM')
  if not marked(log) then redis.call('XGROUP', 'CREATE', log, PASS_MARK, '0') end
end
local done
done, at = rewrite_log_step(log, copy, at, budget, without_taken)
if not done then
  redis.call('HSET', vkey, 'unsend_pass_at', at)
  -- A pass given up (its gateway gone and Meta no longer retrying) leaves
  -- nothing for ever; one going on renews this.
  redis.call('EXPIRE', copy, dedup_ttl)
  redis.call('EXPIRE', pending, dedup_ttl)
  return { 'more', conv, mseq }
end
-- The copy's mark came along with the RENAME.
redis.call('XGROUP', 'DESTROY', log, PASS_MARK)
redis.call('DEL', pending)
redis.call('HDEL', vkey, 'unsend_pass_at')
-- A scrub under way copied frames of the log just replaced: it starts over
-- (the messages it counted so far are not counted again: erase.lua).
local scrub = redis.call('HMGET', vkey, 'scrub_at', 'scrub_counted')
if redis.call('DEL', log .. ':scrub') == 1 then
  redis.call('HSET', vkey, 'scrub_at', 0, 'scrub_counted', math.max(tonumber(scrub[1]), tonumber(scrub[2] or '0')))
end

-- Search: the conversation's words go now; the indexer reads its log again
-- from the start (-1: nothing indexed, and a pass that read the log before
-- this is not applied: search.lua compares the seq it started from).
search_forget('t', conv)
redis.call('HSET', p .. 'search:seq', conv, -1)
redis.call('ZADD', p .. 'search:dirty', now, conv)

local last = last_message_view(redis.call('HGET', vkey, 'last_message') or '')
local answer
for _, t in ipairs(taken) do
  local s = tostring(t.seq)
  redis.call('DEL', p .. 'provider_msg:' .. t.channel .. ':' .. t.provider_id)
  -- Its copies' bytes went with the frames naming them; a copy still on the way is refused (meta_media.lua).
  redis.call('HDEL', vkey .. ':edits', s)
  redis.call('HDEL', vkey .. ':copies', s)
  if last and tostring(last.seq) == s then
    redis.call('HSET', vkey, 'last_message', last_message_field(s, last.at, last.author, '', nil, t.deleted_at))
  end
  local first = redis.call('XRANGE', log, s .. '-1', s .. '-1')[1]
  local msg = first and cjson.decode(first[2][2]).message
  -- Not updated_at: the conversation keeps its place in the lists.
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  emit(conv, seq, 'message', { message = msg, edit = true })
  local dkey = dedup_of(t.channel, t.dedup_key)
  if dkey then redis.call('SET', dkey, conv, 'EX', t.dedup_ttl) end
  if s == mseq then answer = { 'stored', conv, tostring(seq) } end
end
return answer or { 'stored', conv }
