-- Pasokh's copies of Messenger and Instagram attachments
-- (gateway/src/meta_media_copies.cpp). meta_media:due is a zset of messages
-- whose files are to be copied ("<conv>|<seq>", scored by when they are due
-- or their claim ends; ingest.lua queues a message as it stores it),
-- meta_media:attempts their claims so far. A copy is
-- staged as attachment_part:<id> (a string written a chunk at a time on the
-- gateway's files connection, gateway/src/attachment_blobs.cpp; no agent may
-- open it), then made attachment:<id> (its bytes as attachment:<id>:content)
-- here, in the step that logs the message again naming it; conv:<id>:copies
-- (message seq -> its attachments as logged then) says a message's copies
-- are stored, for a second gateway's claim and for edits (edit_message.lua).
-- ARGV: prefix, op, then per op:
-- Times are Redis's clock (TIME), the one every instance shares.
--   claim  lease_ms, limit -> { member, attempt, ... }: due messages whose
--          copies are not stored yet, claimed until now + lease; the attempt
--          number is the claim's token
--   retry  member, token, delay_ms -> 1, or 0 when the claim is no longer
--          the token's (its lease ran out and another instance claimed it)
--   drop   member, token -> 1 | 0, as retry
--   store  conv, seq, ttl_s, attachments (JSON; each id is a provider_ref
--          with its name, mime_type and size), ids... -> 'stored' | 'copied'
--          (another claim stored them) | 'gone' (the message was unsent, or
--          it or its conversation erased or being scrubbed): the staged ids
--          are deleted then, never kept past an erasure; an error when a
--          part is not whole (its writer drops it, the claim stays)
local op = ARGV[2]
local due, attempts = p .. 'meta_media:due', p .. 'meta_media:attempts'

local function forget(member)
  redis.call('ZREM', due, member)
  redis.call('HDEL', attempts, member)
end

-- Whether the claim `token` names is still the member's latest.
local function holds(member, token)
  return redis.call('HGET', attempts, member) == token
end

local function copied(conv, seq)
  return redis.call('HEXISTS', conv_key(conv) .. ':copies', seq) == 1
end

if op == 'claim' then
  local now, lease, out = redis_now_ms(), tonumber(ARGV[3]), {}
  for _, member in ipairs(redis.call('ZRANGE', due, '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))) do
    local conv, seq = string.match(member, '^(.*)|(%d+)$')
    if not conv or copied(conv, seq) or redis.call('HEXISTS', conv_key(conv), 'erased_at') == 1 then
      forget(member)
    else
      redis.call('ZADD', due, 'XX', now + lease, member)
      table.insert(out, member)
      table.insert(out, tostring(redis.call('HINCRBY', attempts, member, 1)))
    end
  end
  return out
end

if op == 'retry' then
  if not holds(ARGV[3], ARGV[4]) then return 0 end
  redis.call('ZADD', due, 'XX', redis_now_ms() + tonumber(ARGV[5]), ARGV[3])
  return 1
end

if op == 'drop' then
  if not holds(ARGV[3], ARGV[4]) then return 0 end
  forget(ARGV[3])
  return 1
end

if op == 'store' then
  local conv, seq, ttl, attachments = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local vkey = conv_key(conv)
  local function part(i) return p .. 'attachment_part:' .. ARGV[i] end
  local function refuse(why)
    for i = 7, #ARGV do redis.call('DEL', part(i)) end
    forget(conv .. '|' .. seq)
    return why
  end
  if copied(conv, seq) then return refuse('copied') end
  -- An erasure or a retention scrub reaching this message (begun: scrub_to;
  -- done: scrubbed_seq) removed or will remove its files: entries logged
  -- after a scrub began are kept as they are, so no copy may come now.
  local h = redis.call('HMGET', vkey, 'erased_at', 'scrub_to', 'scrubbed_seq')
  local n = tonumber(seq)
  if h[1] or (tonumber(h[2] or '') or 0) >= n or (tonumber(h[3] or '') or 0) >= n then return refuse('gone') end
  local entry = redis.call('XRANGE', vkey .. ':log', seq .. '-1', seq .. '-1')[1]
  local msg = entry and cjson.decode(entry[2][2]).message
  -- Erased, or unsent by the customer (unsend_message.lua) while its files were on the way.
  if type(msg) ~= 'table' or msg.erased or msg.deleted_at then return refuse('gone') end

  local files = cjson.decode(attachments)
  local described = {}
  for _, a in ipairs(files) do
    if type(a) == 'table' and type(a.provider_ref) == 'string' then described[a.provider_ref] = a end
  end
  -- Every part whole before any becomes a copy: no half file is ever shown.
  for i = 7, #ARGV do
    local a = described[ARGV[i]]
    if not a or not staged_whole(ARGV[i], tonumber(a.size)) then
      return redis.error_reply('meta_media: copy ' .. ARGV[i] .. ' not staged whole')
    end
  end
  for i = 7, #ARGV do
    local a = described[ARGV[i]]
    keep_staged(ARGV[i], tonumber(a.size), ttl, { 'name', a.name or 'attachment', 'mime_type',
      a.mime_type or 'application/octet-stream', 'size', tostring(a.size), 'channel', msg.channel or '', 'conversation', conv })
  end
  redis.call('HSET', vkey .. ':copies', seq, attachments)
  msg.attachments = files
  -- The customer's newest text, if they edited the message since.
  local edited = redis.call('HGET', vkey .. ':edits', seq)
  if edited then
    local e = cjson.decode(edited)
    msg.text, msg.edited_at = e.text, e.edited_at
  end
  local at = redis.call('HINCRBY', vkey, 'seq', 1)
  emit(conv, at, 'message', { message = msg, edit = true, copies = true })
  forget(conv .. '|' .. seq)
  return 'stored'
end

return redis.error_reply('meta_media: unknown op ' .. tostring(op))
