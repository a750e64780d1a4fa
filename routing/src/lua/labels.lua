-- Adds and removes labels of a conversation (kept sorted, comma-joined, in
-- the conversation hash field `labels`) and logs the change as an event.
-- ARGV: prefix, conv, actor_id, client_id, now_ms, max_labels, add_csv, remove_csv.
-- Labels arrive validated (no commas, trimmed, non-empty).
local conv, actor, client_id, now, max_labels = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local vkey = conv_key(conv)
if redis.call('EXISTS', vkey) == 0 then return { 'not_found' } end
if client_id ~= '' then
  local prev = redis.call('HGET', vkey .. ':clients', client_id)
  if prev then return { 'duplicate', prev } end
end
local function split(csv)
  local out = {}
  for s in string.gmatch(csv, '[^,]+') do out[#out + 1] = s end
  return out
end
local set, before = {}, redis.call('HGET', vkey, 'labels') or ''
for _, l in ipairs(split(before)) do set[l] = true end
local added, removed = {}, {}
for _, l in ipairs(split(ARGV[8])) do
  if set[l] then set[l] = nil; removed[#removed + 1] = l end
end
for _, l in ipairs(split(ARGV[7])) do
  if not set[l] then set[l] = true; added[#added + 1] = l end
end
local labels = {}
for l in pairs(set) do labels[#labels + 1] = l end
table.sort(labels)
if #labels > max_labels then return { 'too_many' } end
local after = table.concat(labels, ',')
if after == before then return { 'unchanged', redis.call('HGET', vkey, 'seq') } end
if after == '' then redis.call('HDEL', vkey, 'labels') else redis.call('HSET', vkey, 'labels', after) end
if #added > 0 then redis.call('SADD', p .. 'labels', unpack(added)) end
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
remember_client_id(vkey, client_id, seq)
-- Lists as comma-joined strings: cjson would encode an empty list as {}.
emit(conv, seq, 'labels', { labels = after, added = table.concat(added, ','), removed = table.concat(removed, ','),
  actor = actor, at = now })
return { 'stored', tostring(seq) }
