-- Merging two customer files into one, and undoing it, atomically (runs with
-- the prelude; one function of the script library). ARGV: prefix, op, now_ms,
-- then per op:
--   merge    into (A), from (B), actor
--            -> { 'merged', merge id, conversations moved } | { 'same' }
--               | { 'no_customer', id } | { 'merged_away', id, into } | { 'erased', id }
--   unmerge  merge id, actor
--            -> { 'unmerged', into, from, conversations moved back } | { 'not_found' }
--               | { 'already' } | { 'merged_away', into, its new file }
--               | { 'erased' } (the files were erased, erase.lua: nothing to give back)
--   dismiss  a, b -> { 'dismissed' }: "not the same person", never suggested again
--   mention  customer, keys ('email:…' / 'phone:…' lines found in a message)
--            -> { 'suggested', n }: weak evidence, a suggestion per other holder
--   verify_code  channel, visitor, code hash (a web chat visitor typed the
--            code mailed to them), max tries, actor, the typed code's hash
--            under the previous web chat secret ('' when none: a code mailed
--            before a rotation still proves the address)
--            -> { 'merged', language, into, from, merge id } | { 'verified', language }
--               | { 'wrong', tries left (0: the code is void) }
--               | { 'no_code' } (none pending: never mailed, used, expired or void)
-- Merging B into A moves B's identities, conversations (A's history list stays
-- in creation order), purchases, key index and serials to A; tags are joined,
-- notes appended, VIP and opt-out win (a customer who said stop stays out).
-- B keeps its hash with merged_into = A. The record merge:{id} (JSON) holds
-- what B had and what A's fields were, so that undo gives B back exactly what
-- it had: identities and those conversations return to B, conversations A
-- opened after the merge stay with A, and A's fields go back unless someone
-- changed them since. Every moved conversation gets a `customer` event (the
-- consoles see its new owner live); customer:events logs merges and undos.
local op, now = ARGV[2], tonumber(ARGV[3])

local function ck(id) return p .. 'cust:' .. id end
local function conv_number(id) return tonumber(string.match(id, '(%d+)$')) or 0 end

-- The customer file's scalar fields a merge may change.
local merged_fields = { 'name', 'language', 'email', 'phone', 'tags', 'notes', 'vip', 'opt_out', 'opt_out_at',
  'opt_out_channel' }

local function hash_of(key)
  local h, out = redis.call('HGETALL', key), {}
  for i = 1, #h, 2 do out[h[i]] = h[i + 1] end
  return out
end

-- Moves an open-conversation pointer to another file unless that file holds
-- one on the channel; a resolved conversation's pointer lapses when its reply
-- window ends (PX), and keeps that deadline. Returns whether it moved.
local function move_open(from, to, conv)
  local ttl = redis.call('PTTL', from)
  redis.call('DEL', from)
  if ttl > 0 then return redis.call('SET', to, conv, 'NX', 'PX', ttl) end
  return redis.call('SET', to, conv, 'NX')
end

local function push_all(key, list)
  for i = 1, #list, 1000 do
    redis.call('RPUSH', key, unpack(list, i, math.min(i + 999, #list)))
  end
end

local function log_event(fields)
  redis.call('XADD', p .. 'customer:events', 'MAXLEN', '~', 100000, '*', 'e', cjson.encode(fields))
end

-- The new owner of a conversation, as an event in its log (and live). An
-- open web chat listens on the old owner's id and would hear nothing more:
-- a signal there (no team: only that customer's sockets) sends it to the
-- file its visitor is in now (gateway/src/webchat_socket.cpp, signal()).
local function reassign(conv, to, from, merge_id, actor, kind)
  redis.call('HSET', conv_key(conv), 'customer_id', to)
  local seq = redis.call('HINCRBY', conv_key(conv), 'seq', 1)
  emit(conv, seq, 'customer', { customer = to, from = from, merge = merge_id, by = actor, change = kind, at = now })
  redis.call('PUBLISH', p .. 'webchat:signals', '{"team":"","conv":' .. json_string(conv) .. ',"customer":' ..
    json_string(from) .. ',"seq":0}\n' .. cjson.encode({ type = 'customer', conv = conv, customer = to, moved = true }))
end

local function joined_tags(a, b)
  local set, list = {}, {}
  for t in string.gmatch((a or '') .. ',' .. (b or ''), '[^,]+') do
    if not set[t] then set[t] = true; list[#list + 1] = t end
  end
  table.sort(list)
  return table.concat(list, ',')
end

local function merge(a, b, actor)
  if a == b then return { 'same' } end
  for _, id in ipairs({ a, b }) do
    if redis.call('EXISTS', ck(id)) == 0 then return { 'no_customer', id } end
    local h = redis.call('HMGET', ck(id), 'merged_into', 'erased_at')
    if h[1] then return { 'merged_away', id, h[1] } end
    if h[2] then return { 'erased', id } end
  end
  local mid = 'mg_' .. redis.call('INCR', p .. 'next:merge')
  local rec = { id = mid, into = a, from = b, at = now, by = actor, identities = hash_of(ck(b) .. ':identities'),
    purchases = hash_of(ck(b) .. ':purchases'), keys = redis.call('SMEMBERS', ck(b) .. ':keys'),
    conversations = redis.call('LRANGE', ck(b) .. ':conversations', 0, -1), added = {}, serials = {},
    open_b = {}, open_a = {}, before = {}, after = {}, suggest = hash_of(ck(b) .. ':suggest') }

  for field, value in pairs(rec.identities) do
    redis.call('HSET', ck(a) .. ':identities', field, value)
    redis.call('SET', p .. 'ident:' .. field, a)
  end
  redis.call('DEL', ck(b) .. ':identities')

  -- Conversations: A's history list in creation order; one open conversation
  -- per channel takes the customer's next message.
  local moved = {}
  for _, conv in ipairs(rec.conversations) do
    local h = redis.call('HMGET', conv_key(conv), 'customer_id', 'channel')
    if h[1] == b then
      moved[#moved + 1] = conv
      local ch = h[2]
      if redis.call('GET', ck(b) .. ':open:' .. ch) == conv then
        rec.open_b[ch] = conv
        if move_open(ck(b) .. ':open:' .. ch, ck(a) .. ':open:' .. ch, conv) then rec.open_a[ch] = conv end
      end
      reassign(conv, a, b, mid, actor, 'merge')
    end
  end
  local all = redis.call('LRANGE', ck(a) .. ':conversations', 0, -1)
  for _, conv in ipairs(rec.conversations) do all[#all + 1] = conv end
  table.sort(all, function(x, y) return conv_number(x) < conv_number(y) end)
  redis.call('DEL', ck(a) .. ':conversations', ck(b) .. ':conversations')
  push_all(ck(a) .. ':conversations', all)

  for pkey, pjson in pairs(rec.purchases) do
    if redis.call('HSETNX', ck(a) .. ':purchases', pkey, pjson) == 1 then rec.added[#rec.added + 1] = pkey end
    local ok, item = pcall(cjson.decode, pjson)
    local serial = ok and type(item) == 'table' and item.serial or ''
    if serial ~= '' and redis.call('GET', p .. 'serial:' .. serial) == b then
      redis.call('SET', p .. 'serial:' .. serial, a)
      rec.serials[#rec.serials + 1] = serial
    end
  end
  redis.call('DEL', ck(b) .. ':purchases')

  for _, key in ipairs(rec.keys) do
    if redis.call('GET', p .. 'key:' .. key) == b then redis.call('SET', p .. 'key:' .. key, a) end
    redis.call('SADD', ck(a) .. ':keys', key)
  end
  redis.call('DEL', ck(b) .. ':keys')

  -- The file's fields: A's, filled from B; tags joined; VIP and opt-out win.
  local ha, hb = redis.call('HMGET', ck(a), unpack(merged_fields)), redis.call('HMGET', ck(b), unpack(merged_fields))
  local va, vb, new = {}, {}, {}
  for i, f in ipairs(merged_fields) do
    va[f], vb[f] = ha[i] or false, hb[i] or false
    rec.before[f] = va[f]
    new[f] = va[f]
    if (not va[f] or va[f] == '') and vb[f] and vb[f] ~= '' then new[f] = vb[f] end
  end
  new.tags = joined_tags(va.tags, vb.tags)
  if va.notes and va.notes ~= '' and vb.notes and vb.notes ~= '' then new.notes = va.notes .. '\n\n' .. vb.notes end
  if va.vip == '1' or vb.vip == '1' then new.vip = '1' end
  if va.opt_out ~= '1' and vb.opt_out == '1' then
    new.opt_out, new.opt_out_at, new.opt_out_channel = '1', vb.opt_out_at, vb.opt_out_channel
  end
  for _, f in ipairs(merged_fields) do
    if new[f] ~= va[f] then
      if new[f] then redis.call('HSET', ck(a), f, new[f]) else redis.call('HDEL', ck(a), f) end
    end
    rec.after[f] = new[f]
  end

  -- A rating or comment B owes lands in the file it belongs to now.
  for field in pairs(rec.identities) do
    local ch = string.match(field, '^([^:]+):')
    for _, kind in ipairs({ 'pending', 'comment' }) do
      local from_key, to_key = p .. 'csat:' .. kind .. ':' .. b .. ':' .. ch, p .. 'csat:' .. kind .. ':' .. a .. ':' .. ch
      if redis.call('EXISTS', from_key) == 1 and redis.call('EXISTS', to_key) == 0 then
        redis.call('RENAME', from_key, to_key)
      end
    end
  end

  -- Suggestions: this pair is settled; B's others become A's.
  redis.call('HDEL', ck(a) .. ':suggest', b)
  for other, s in pairs(rec.suggest) do
    if other ~= a then redis.call('HSETNX', ck(a) .. ':suggest', other, s) end
    redis.call('HDEL', ck(other) .. ':suggest', b)
  end
  redis.call('DEL', ck(b) .. ':suggest')

  redis.call('HSET', ck(b), 'merged_into', a, 'merged_at', now, 'merge_id', mid)
  redis.call('RPUSH', ck(a) .. ':merges', mid)
  redis.call('SET', p .. 'merge:' .. mid, cjson.encode(rec))
  log_event({ type = 'merge', merge = mid, into = a, from = b, by = actor, at = now, conversations = #moved })
  -- Search: A now has B's names and ids; B leaves the index.
  search_customer_changed(a, now)
  search_customer_changed(b, now)
  return { 'merged', mid, tostring(#moved) }
end

if op == 'merge' then return merge(ARGV[4], ARGV[5], ARGV[6]) end

-- Replies by email go only to a proved address (webchat_mail_fallback.lua):
-- once it is, each of the customer's chats on the channel (of their latest
-- 20) that may hold agent replies they have not read is due at once: an
-- agent replied, and something came after what they read or were mailed.
-- The sweep mails what they have not read, one mail a chat (the claim
-- re-times it by the replies' own times, or drops it when nothing is unread).
local function mail_missed_replies(cust, channel)
  for _, conv in ipairs(redis.call('LRANGE', ck(cust) .. ':conversations', -20, -1)) do
    local h = redis.call('HMGET', conv_key(conv), 'channel', 'side', 'status', 'human_replied', 'seq',
      'customer_read_seq', 'mail_fallback_seq')
    local handled = math.max(tonumber(h[6] or '0'), tonumber(h[7] or '0'))
    if h[1] == channel and not h[2] and h[3] ~= 'closed' and h[4] and tonumber(h[5] or '0') > handled then
      redis.call('ZADD', p .. 'webchat:mail_due', 'NX', now, conv)
    end
  end
end

-- A web chat visitor typed the code mailed to the address they gave
-- (gateway/src/webchat_verify.cpp; webchat_verify.lua kept its hash on this
-- visitor only): the address is theirs, and they read it at this widget.
-- Their file joins the file that holds it (a merge an agent can undo), or
-- gets it indexed when nobody holds it; a visitor who has not written yet has
-- it linked by their first message (ingest.lua). A wrong code uses up one of
-- max_tries; the last makes it void. Answers { 'verified' | 'merged', the
-- address the code proved, ... } | { 'wrong', tries left } | { 'no_code' }.
if op == 'verify_code' then
  local channel, visitor, given, max_tries, actor = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
  local given_before = ARGV[9] or ''
  local ckey = p .. 'webchat:verify_code:' .. channel .. ':' .. visitor
  local t = redis.call('HMGET', ckey, 'code', 'key')
  if not t[1] then return { 'no_code' } end
  -- Both sides are HMACs (the typed code's made now): comparing them tells nothing of the code.
  if t[1] ~= given and (given_before == '' or t[1] ~= given_before) then
    local wrong_key = p .. 'webchat:verify_wrong:' .. t[2]
    redis.call('INCR', wrong_key)
    redis.call('EXPIRE', wrong_key, 86400, 'NX')
    local left = max_tries - redis.call('HINCRBY', ckey, 'tries', 1)
    if left <= 0 then redis.call('DEL', ckey) end
    return { 'wrong', math.max(left, 0) }
  end
  redis.call('DEL', ckey)  -- one use
  local addr = t[2]
  local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. visitor)
  if not cust then
    local vkey = p .. 'webchat:visitor:' .. channel .. ':' .. visitor
    if redis.call('EXISTS', vkey) == 1 then redis.call('HSET', vkey, 'verified_email', addr) end
    return { 'verified', addr }
  end
  local key = 'email:' .. addr
  local holder = redis.call('GET', p .. 'key:' .. key)
  if holder and holder ~= cust then
    local r = merge(holder, cust, actor)
    if r[1] ~= 'merged' then return { 'verified', addr } end
    mail_missed_replies(holder, channel)
    return { 'merged', addr, holder, cust, r[2] }
  end
  index_customer_key(cust, key, now)
  search_customer_changed(cust, now)
  mail_missed_replies(cust, channel)
  return { 'verified', addr }
end

if op == 'unmerge' then
  local mid, actor = ARGV[4], ARGV[5]
  local raw = redis.call('GET', p .. 'merge:' .. mid)
  if not raw then return { 'not_found' } end
  local rec = cjson.decode(raw)
  if rec.erased_at then return { 'erased' } end
  if rec.undone_at then return { 'already' } end
  local a, b = rec.into, rec.from
  local later = redis.call('HGET', ck(a), 'merged_into')
  if later then return { 'merged_away', a, later } end

  for field, value in pairs(rec.identities) do
    redis.call('HSET', ck(b) .. ':identities', field, value)
    if redis.call('GET', p .. 'ident:' .. field) == a then
      redis.call('SET', p .. 'ident:' .. field, b)
      redis.call('HDEL', ck(a) .. ':identities', field)
    end
  end

  local back = 0
  for _, conv in ipairs(rec.conversations) do
    if redis.call('HGET', conv_key(conv), 'customer_id') == a then
      redis.call('LREM', ck(a) .. ':conversations', 0, conv)
      reassign(conv, b, a, mid, actor, 'unmerge')
      back = back + 1
    end
  end
  redis.call('DEL', ck(b) .. ':conversations')
  push_all(ck(b) .. ':conversations', rec.conversations)
  for ch, conv in pairs(rec.open_b) do
    local a_open = ck(a) .. ':open:' .. ch
    if rec.open_a[ch] and redis.call('GET', a_open) == conv then
      move_open(a_open, ck(b) .. ':open:' .. ch, conv)
    else
      local status = redis.call('HGET', conv_key(conv), 'status')
      if status ~= 'resolved' and status ~= 'closed' then redis.call('SET', ck(b) .. ':open:' .. ch, conv, 'NX') end
    end
  end

  for pkey, pjson in pairs(rec.purchases) do redis.call('HSET', ck(b) .. ':purchases', pkey, pjson) end
  for _, pkey in ipairs(rec.added) do
    if redis.call('HGET', ck(a) .. ':purchases', pkey) == rec.purchases[pkey] then
      redis.call('HDEL', ck(a) .. ':purchases', pkey)
    end
  end
  for _, serial in ipairs(rec.serials) do
    if redis.call('GET', p .. 'serial:' .. serial) == a then redis.call('SET', p .. 'serial:' .. serial, b) end
  end

  for _, key in ipairs(rec.keys) do
    redis.call('SADD', ck(b) .. ':keys', key)
    if redis.call('GET', p .. 'key:' .. key) == a then
      redis.call('SET', p .. 'key:' .. key, b)
      redis.call('SREM', ck(a) .. ':keys', key)
    end
  end

  -- A's fields as they were, unless changed since the merge (a "stop" the
  -- customer sent afterwards stays).
  for _, f in ipairs(merged_fields) do
    local cur = redis.call('HGET', ck(a), f) or false
    local after, before = rec.after[f], rec.before[f]
    if after == cjson.null then after = false end
    if before == cjson.null then before = false end
    if cur == after and cur ~= before then
      if before then redis.call('HSET', ck(a), f, before) else redis.call('HDEL', ck(a), f) end
    end
  end

  for other, s in pairs(rec.suggest) do
    if other ~= a then redis.call('HSET', ck(b) .. ':suggest', other, s) end
  end
  -- Undone: an agent said these are two people.
  redis.call('SADD', ck(a) .. ':suggest_no', b)
  redis.call('SADD', ck(b) .. ':suggest_no', a)

  redis.call('HDEL', ck(b), 'merged_into', 'merged_at', 'merge_id')
  redis.call('LREM', ck(a) .. ':merges', 0, mid)
  -- Undone: the record keeps who and when, no copy of either file (an
  -- erasure of one of them must not leave one behind here).
  redis.call('SET', p .. 'merge:' .. mid, cjson.encode({ id = rec.id, into = a, from = b, at = rec.at, by = rec.by,
    undone_at = now, undone_by = actor }))
  log_event({ type = 'unmerge', merge = mid, into = a, from = b, by = actor, at = now, conversations = back })
  search_customer_changed(a, now)
  search_customer_changed(b, now)
  return { 'unmerged', a, b, tostring(back) }
end

if op == 'dismiss' then
  local a, b = ARGV[4], ARGV[5]
  redis.call('HDEL', ck(a) .. ':suggest', b)
  redis.call('HDEL', ck(b) .. ':suggest', a)
  redis.call('SADD', ck(a) .. ':suggest_no', b)
  redis.call('SADD', ck(b) .. ':suggest_no', a)
  return { 'dismissed' }
end

if op == 'mention' then
  local cust, n = ARGV[4], 0
  for key in string.gmatch(ARGV[5] or '', '[^\n]+') do
    local kind, value = string.match(key, '^(%a+):(.+)$')
    local holder = redis.call('GET', p .. 'key:' .. key)
    if holder and holder ~= cust and suggest_merge(cust, holder, 'mentioned_' .. kind, value, now) then n = n + 1 end
  end
  return { 'suggested', tostring(n) }
end

return { 'unknown_op', op }
