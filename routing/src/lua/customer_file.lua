-- The customer file: the customer hash, their identities on every channel and
-- their conversations (newest last), merge suggestions and undoable merges,
-- as one JSON object; '' when unknown.
-- ARGV: prefix, customer id, max conversations.
local ckey = p .. 'cust:' .. ARGV[2]
if redis.call('EXISTS', ckey) == 0 then return '' end
local h = redis.call('HGETALL', ckey)
local c = {}
for i = 1, #h, 2 do c[h[i]] = h[i + 1] end
local identities = {}
for _, v in ipairs(redis.call('HVALS', ckey .. ':identities')) do identities[#identities + 1] = cjson.decode(v) end
local conversations = {}
for _, id in ipairs(redis.call('LRANGE', ckey .. ':conversations', -tonumber(ARGV[3]), -1)) do
  if redis.call('EXISTS', conv_key(id)) == 1 then
    local v = conv_view(id)
    v.labels = redis.call('HGET', conv_key(id), 'labels') or nil
    conversations[#conversations + 1] = v
  end
end
-- Possibly the same person (merge suggestions), with what an agent needs to
-- judge: the other file's name, channels and evidence. Files merged away are left out.
local suggestions = {}
local sh = redis.call('HGETALL', ckey .. ':suggest')
for i = 1, #sh, 2 do
  local other = p .. 'cust:' .. sh[i]
  local o = redis.call('HMGET', other, 'name', 'merged_into', 'language')
  if not o[2] and redis.call('EXISTS', other) == 1 then
    local s = cjson.decode(sh[i + 1])
    s.customer, s.name, s.language = sh[i], o[1] or '', o[3] or ''
    s.identities = {}
    for _, v in ipairs(redis.call('HVALS', other .. ':identities')) do s.identities[#s.identities + 1] = cjson.decode(v) end
    s.conversation_count = redis.call('LLEN', other .. ':conversations')
    suggestions[#suggestions + 1] = s
  end
end
-- Merges into this file that can be undone (not erased), newest first.
local merges = {}
local mids = redis.call('LRANGE', ckey .. ':merges', -20, -1)
for i = #mids, 1, -1 do
  local raw = redis.call('GET', p .. 'merge:' .. mids[i])
  local m = raw and cjson.decode(raw)
  if m and not m.erased_at then
    merges[#merges + 1] = { id = m.id, from = m.from, from_name = redis.call('HGET', p .. 'cust:' .. m.from, 'name') or '',
      at = m.at, by = m.by }
  end
end
return cjson.encode({ customer = c, identities = identities, conversations = conversations,
  conversation_count = redis.call('LLEN', ckey .. ':conversations'), suggestions = suggestions, merges = merges })
