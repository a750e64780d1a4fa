-- Search: an inverted index of folded words (routing/src/search_text.cpp)
-- kept by one indexer (routing/src/search_service.cpp) after the fact, never
-- on the ingest path: emit_json only marks a conversation dirty.
-- Keys: search:t:{term} zset (member conversation or customer id, score the
-- time it last used the term; the newest `cap` kept), search:vocab zset (every
-- term, for prefix lookups), search:seq hash (conversation -> last indexed
-- seq), search:cterms hash (customer -> its indexed terms), search:dirty zset
-- (conversation -> seq), search:dirty:cust zset (customer -> time).
-- ARGV: prefix, op, ...
--   index  cap, then per document: member, seen_score, indexed_seq ('' for a
--          customer), score, term count, terms... Conversations gain terms;
--          a customer's terms are replaced (a rename drops the old name).
--          A document leaves the dirty set unless it changed meanwhile.
--   query  teams (comma list the caller may see), admin ('1' sees every
--          customer), limit, key ('email:…' / 'phone:…' or ''), last_is_prefix,
--          words... -> JSON { conversations: [views], customers: [...],
--          more: bool }. Newest first.
--   backfill  marks every conversation (rpt:created) dirty once: data from
--          before the index existed.
local op = ARGV[2]
local term_key = function(t) return p .. 'search:t:' .. t end

if op == 'index' then
  local cap, i = tonumber(ARGV[3]), 4
  local done = 0
  while i <= #ARGV do
    local member, seen, indexed, score, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4])
    local terms = { unpack(ARGV, i + 5, i + 4 + n) }
    i = i + 5 + n
    for _, t in ipairs(terms) do
      local k = term_key(t)
      redis.call('ZADD', k, score, member)
      redis.call('ZADD', p .. 'search:vocab', 0, t)
      if redis.call('ZCARD', k) > cap then redis.call('ZREMRANGEBYRANK', k, 0, -cap - 1) end
    end
    local dirty
    if indexed ~= '' then
      redis.call('HSET', p .. 'search:seq', member, indexed)
      dirty = p .. 'search:dirty'
    else
      local keep = {}
      for _, t in ipairs(terms) do keep[t] = true end
      for t in string.gmatch(redis.call('HGET', p .. 'search:cterms', member) or '', '%S+') do
        if not keep[t] then redis.call('ZREM', term_key(t), member) end
      end
      if n > 0 then redis.call('HSET', p .. 'search:cterms', member, table.concat(terms, ' '))
      else redis.call('HDEL', p .. 'search:cterms', member) end
      dirty = p .. 'search:dirty:cust'
    end
    local now_score = redis.call('ZSCORE', dirty, member)
    if now_score and tonumber(now_score) <= tonumber(seen) then redis.call('ZREM', dirty, member) end
    done = done + 1
  end
  return done
end

if op == 'backfill' then
  if redis.call('SET', p .. 'search:backfilled', '1', 'NX') then
    -- Score 0: at or below any seq, so the indexer reads each log from the start.
    redis.call('ZUNIONSTORE', p .. 'search:dirty', 2, p .. 'search:dirty', p .. 'rpt:created', 'WEIGHTS', 1, 0,
      'AGGREGATE', 'MAX')
    return redis.call('ZCARD', p .. 'search:dirty')
  end
  return -1
end

if op == 'query' then
  local allowed = {}
  for t in string.gmatch(ARGV[3], '[^,]+') do allowed[t] = true end
  local admin, limit, key, last_is_prefix = ARGV[4] == '1', tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1'
  local words = { unpack(ARGV, 8) }
  local tmp_last, tmp_all = p .. 'search:tmp:last', p .. 'search:tmp:all'
  local sets = {}
  for w = 1, #words do
    local word = words[w]
    if w == #words and last_is_prefix then
      -- The word being typed: the known terms it starts (the first 30 in
      -- spelling order, the word itself first when it is a term).
      local found = redis.call('ZRANGEBYLEX', p .. 'search:vocab', '[' .. word, '[' .. word .. '\255', 'LIMIT', 0, 30)
      local keys = {}
      for _, t in ipairs(found) do keys[#keys + 1] = term_key(t) end
      if #keys == 0 then sets = nil; break end
      redis.call('ZUNIONSTORE', tmp_last, #keys, unpack(keys))
      sets[#sets + 1] = tmp_last
    else
      sets[#sets + 1] = term_key(word)
    end
  end
  local ids = {}
  if sets and #sets > 0 then
    local source = sets[1]
    if #sets > 1 then
      redis.call('ZINTERSTORE', tmp_all, #sets, unpack(sets))
      source = tmp_all
    end
    ids = redis.call('ZREVRANGE', source, 0, 999)
  end
  redis.call('DEL', tmp_last, tmp_all)

  local function customer_visible(id)
    if admin then return true end
    for _, c in ipairs(redis.call('LRANGE', p .. 'cust:' .. id .. ':conversations', -50, -1)) do
      if allowed[redis.call('HGET', conv_key(c), 'team') or ''] then return true end
    end
    return false
  end
  local customers, conversations, seen = {}, {}, {}
  local more = false
  local function add_customer(id)
    if seen[id] or #customers >= limit then return end
    seen[id] = true
    local c = redis.call('HMGET', p .. 'cust:' .. id, 'name', 'language', 'vip', 'email', 'phone', 'last_seen_at',
      'merged_into')
    if (c[1] or c[6]) and not c[7] and customer_visible(id) then
      customers[#customers + 1] = { id = id, name = c[1] or '', language = c[2] or '', vip = c[3] == '1',
        email = c[4] or nil, phone = c[5] or nil, last_seen_at = tonumber(c[6] or '') }
    end
  end
  if key ~= '' then
    local holder = redis.call('GET', p .. 'key:' .. key)
    if holder then add_customer(holder) end
  end
  for _, id in ipairs(ids) do
    if string.sub(id, 1, 3) == 'cu_' then
      add_customer(id)
    elseif #conversations >= limit then
      more = true
    elseif allowed[redis.call('HGET', conv_key(id), 'team') or ''] then
      conversations[#conversations + 1] = conv_view(id)
    end
  end
  -- cjson writes an empty table as {}; the arrays are spliced by hand.
  local function array(t) return #t == 0 and '[]' or cjson.encode(t) end
  return '{"conversations":' .. array(conversations) .. ',"customers":' .. array(customers) ..
    ',"more":' .. tostring(more) .. '}'
end

return redis.error_reply('unknown op ' .. tostring(op))
