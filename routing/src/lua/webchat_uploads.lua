-- Files a web chat visitor sends (gateway/src/webchat_uploads.cpp), kept as
-- a mail's attachments are (attachments.lua): staged a chunk at a time on the
-- files connection, then attachment:<id> with name, mime_type, size, channel
-- and conversation '' (unfiled: no agent may open it) until the message
-- naming it is stored, its bytes as attachment:<id>:content; plus `visitor`
-- ("<channel>:<visitor>": who may see it and name it in a message) and
-- `claim` (the dedup key of the message that named it: one message only,
-- and its resend). webchat:uploads:<channel>:<visitor> lists the visitor's
-- uploads, for erasure (erase.lua forget_visitor).
-- ARGV: prefix, op, then per op:
--   put    visitor, id, name, mime_type, size, ttl_s -> 1; an error, keeping
--          nothing, when the staged part is not whole (its writer drops it)
--   claim  visitor, dedup_key, ids... -> { 'ok', name, mime_type, size, ... (per id) }
--          | { 'refused', id } (not there, another visitor's or another message's)
--   file   conv, ttl_s, ids... -> 1
local op = ARGV[2]
local function key(id) return p .. 'attachment:' .. id end

if op == 'put' then
  local visitor, id, size, ttl = ARGV[3], ARGV[4], tonumber(ARGV[7]), ARGV[8]
  if not staged_whole(id, size) then return redis.error_reply('webchat_uploads: ' .. id .. ' not staged whole') end
  keep_staged(id, size, ttl, { 'name', ARGV[5], 'mime_type', ARGV[6], 'size', ARGV[7], 'channel',
    string.match(visitor, '^([^:]*)'), 'conversation', '', 'visitor', visitor })
  local list = p .. 'webchat:uploads:' .. visitor
  redis.call('SADD', list, id)
  redis.call('EXPIRE', list, ttl)
  return 1
end

if op == 'claim' then
  local visitor, claim, out = ARGV[3], ARGV[4], { 'ok' }
  for i = 5, #ARGV do
    local f = redis.call('HMGET', key(ARGV[i]), 'visitor', 'claim', 'name', 'mime_type', 'size')
    if f[1] ~= visitor or (f[2] and f[2] ~= claim) then return { 'refused', ARGV[i] } end
    table.insert(out, f[3] or '')
    table.insert(out, f[4] or '')
    table.insert(out, f[5] or '0')
  end
  for i = 5, #ARGV do redis.call('HSET', key(ARGV[i]), 'claim', claim) end
  return out
end

if op == 'file' then
  -- EXPIRE again, as for mail: an HSET on a key that expired meanwhile must not leave one that never does.
  for i = 5, #ARGV do
    if redis.call('EXISTS', key(ARGV[i])) == 1 then
      redis.call('HSET', key(ARGV[i]), 'conversation', ARGV[3])
      redis.call('EXPIRE', key(ARGV[i]), ARGV[4])
      redis.call('EXPIRE', key(ARGV[i]) .. ':content', ARGV[4])
    end
  end
  return 1
end

return redis.error_reply('webchat_uploads: unknown op ' .. tostring(op))
