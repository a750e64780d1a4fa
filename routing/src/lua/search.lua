-- Search: an inverted index of folded words (routing/src/search_text.cpp)
-- kept by one indexer (routing/src/search_service.cpp) after the fact, never
-- on the ingest path: emit_json only marks a conversation dirty.
-- Keys:
--   search:t:{term} / search:c:{term}  zsets of the conversations / customer
--     files using the term, scored by when they last did; a common term keeps
--     its newest `cap` (trimmed in steps)
--   search:terms   hash, document -> its terms (space-separated): queries check
--     common words here instead of narrowing by their trimmed sets
--   search:vocab   zset of every term, for the word being typed (prefixes)
--   search:seq     hash, conversation -> last indexed seq
--   search:fold    the folding version the terms were made with (missing: 1,
--     from before it was recorded; search_text.hpp search_fold_version)
--   search:dirty   zset, conversation -> when it first changed since indexed
--     (oldest first); search:backlog the same for the one-time backfill,
--     worked on only when nothing is dirty; search:dirty:cust customer -> time
-- ARGV: prefix, op, ...
--   index  cap, document count, then per document: member, seen,
--          indexed_seq ('' for a customer), from (a conversation's indexed
--          seq when the pass read it: if search:seq moved since, erase.lua
--          scrubbed the log, and what was read is not indexed; '' for a
--          customer: an erased one gets no terms), dropped count, dropped terms...
--          (a conversation: terms an edit took out), term count, terms...;
--          then per term: kind ('t' / 'c'), term, count, (score, member) ×
--          count. For a conversation `seen` is '1' when its log was read to
--          the end (then it leaves the dirty sets unless a newer entry was
--          logged meanwhile); for a customer it is its dirty score as read
--          (it leaves unless changed meanwhile). A conversation gains its
--          terms and loses the dropped ones, or, when this pass read its log
--          from seq 1, its terms replace the stored ones (the next passes of a
--          long log add the rest); a customer's terms are replaced.
--   query  teams (comma list the caller may see), admin ('1' sees every
--          customer), limit, key ('email:…' / 'phone:…' or ''), last_is_prefix,
--          cap, words... -> JSON { conversations: [views], customers: [...],
--          more: bool }, newest first.
--   backfill  version (the code's folding version), slice: puts every
--          conversation (rpt:created) in the backlog, once, and again when the
--          index was made with an older folding (its indexed seqs are
--          forgotten, so each log is read again from the start and its terms
--          replaced); `slice` of them a call (search:backfill_at); then the
--          customer files without a conversation, `slice` customer numbers a
--          call (search:backfill_cust_at). Returns how many this call looked
--          at (fewer than `slice`: all are done), or -1 when there was nothing
--          to do.
local op = ARGV[2]

-- ZUNIONSTORE / ZINTERSTORE into `dest`, keeping each document's newest score.
local function zstore(command, dest, keys)
  local args = { command, dest, #keys }
  for _, k in ipairs(keys) do args[#args + 1] = k end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MAX'
  return redis.call(unpack(args))
end

if op == 'index' then
  local cap, documents, i = tonumber(ARGV[3]), tonumber(ARGV[4]), 5
  -- Documents whose postings this pass leaves out (read before erase.lua
  -- scrubbed or erased them).
  local skip = {}
  local function index_document(member, seen, indexed, kind, terms, dropped)
    local stored, known = search_terms_of(member)
    local added, gone = {}, {}
    for _, t in ipairs(terms) do if not known[t] then added[#added + 1] = t end end
    -- For a document read whole: the stored terms it no longer has go.
    local function replaced()
      local keep = {}
      for _, t in ipairs(terms) do keep[t] = true end
      for t in pairs(known) do if not keep[t] then gone[#gone + 1] = t end end
    end
    if kind == 'c' then
      -- A customer file's terms are replaced: a rename or a merge drops the old ones.
      replaced()
      local now_score = redis.call('ZSCORE', p .. 'search:dirty:cust', member)
      if now_score and tonumber(now_score) <= tonumber(seen) then redis.call('ZREM', p .. 'search:dirty:cust', member) end
    else
      -- A conversation gains terms, and loses the ones an edit took out; read
      -- from its start (first indexed, or again after the folding changed:
      -- backfill), its terms replace what older folding made. A log longer
      -- than a pass gains the rest of its terms in the next passes.
      local from_start = not redis.call('HGET', p .. 'search:seq', member)
      if from_start then replaced()
      else for _, t in ipairs(dropped) do if known[t] then gone[#gone + 1] = t end end end
      redis.call('HSET', p .. 'search:seq', member, indexed)
      if seen == '1' and log_ends_by(member, indexed) then
        redis.call('ZREM', p .. 'search:dirty', member)
        redis.call('ZREM', p .. 'search:backlog', member)
      end
    end
    search_drop_terms(kind, member, gone)
    if #gone > 0 then
      for _, t in ipairs(gone) do known[t] = nil end
      for _, t in ipairs(added) do known[t] = true end
      local all = {}
      for t in pairs(known) do all[#all + 1] = t end
      if #all > 0 then redis.call('HSET', p .. 'search:terms', member, table.concat(all, ' '))
      else redis.call('HDEL', p .. 'search:terms', member) end
    elseif #added > 0 then
      redis.call('HSET', p .. 'search:terms', member, (stored and (stored .. ' ') or '') .. table.concat(added, ' '))
    end
  end
  for _ = 1, documents do
    local member, seen, indexed, from = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local dropped = {}
    for k = 1, tonumber(ARGV[i + 4]) do dropped[#dropped + 1] = ARGV[i + 4 + k] end
    i = i + 5 + #dropped
    local terms = {}
    for k = 1, tonumber(ARGV[i]) do terms[k] = ARGV[i + k] end
    i = i + 1 + #terms
    local kind = indexed == '' and 'c' or 't'
    if kind == 'c' and redis.call('HEXISTS', p .. 'cust:' .. member, 'erased_at') == 1 then
      terms, skip[member] = {}, true
    end
    if kind == 't' and tonumber(redis.call('HGET', p .. 'search:seq', member) or '0') ~= tonumber(from) then
      skip[member] = true  -- stays dirty: the next pass reads what is there now
    else
      index_document(member, seen, indexed, kind, terms, dropped)
    end
  end
  -- The postings, one ZADD per term for the whole pass (a common word is in
  -- many of its documents).
  while i <= #ARGV do
    local kind, t, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
    local k = search_term_key(kind, t)
    local zadd = { 'ZADD', k }
    for j = 1, 2 * count, 2 do
      if not skip[ARGV[i + 3 + j]] then
        zadd[#zadd + 1] = ARGV[i + 2 + j]
        zadd[#zadd + 1] = ARGV[i + 3 + j]
      end
    end
    i = i + 3 + 2 * count
    if #zadd > 2 then
      local added = redis.call(unpack(zadd))
      local size = redis.call('ZCARD', k)
      if added == size then
        redis.call('ZADD', p .. 'search:vocab', 0, t)  -- a new term
      elseif size > cap + cap / 10 then
        -- A common word keeps its newest `cap` documents (trimmed in steps).
        redis.call('ZREMRANGEBYRANK', k, 0, -cap - 1)
      end
    end
  end
  return documents
end

if op == 'backfill' then
  local version, slice = tonumber(ARGV[3]), tonumber(ARGV[4])
  local cursor_key = p .. 'search:backfill_at'  -- rank in rpt:created to queue from, while queuing
  local cust_cursor_key = p .. 'search:backfill_cust_at'  -- then the customer number to look at from
  local at = tonumber(redis.call('GET', cursor_key) or '')
  local cust_at = tonumber(redis.call('GET', cust_cursor_key) or '')
  if not at and not cust_at then
    local fresh = redis.call('SET', p .. 'search:backfilled', '1', 'NX')
    -- Customer files are looked at once per pass; an index whose pass came
    -- before that (search:backfilled_cust unset) gets that part alone.
    local customers_done = redis.call('SET', p .. 'search:backfilled_cust', '1', 'NX') == false
    -- An older gateway still running during an upgrade leaves a newer index be.
    if not fresh and tonumber(redis.call('GET', p .. 'search:fold') or '1') >= version then
      if customers_done then return -1 end
      cust_at = 0
    else
      -- Older folding: every log is read again from its start (the backlog, in
      -- passes; a conversation without an indexed seq is read from seq 1), and
      -- search keeps the old terms meanwhile. Decided in one script: exactly
      -- one gateway does it.
      if not fresh then redis.call('UNLINK', p .. 'search:seq') end
      redis.call('SET', p .. 'search:fold', version)
      at = 0
    end
  end
  -- Queued `slice` at a time, one call per indexing tick: a million
  -- conversations in one script would hold Redis for seconds. A crash
  -- resumes at the cursor.
  local looked = 0
  if at then
    local page = redis.call('ZRANGE', p .. 'rpt:created', at, at + slice - 1, 'WITHSCORES')
    for i = 1, #page, 2 do redis.call('ZADD', p .. 'search:backlog', 'NX', page[i + 1], page[i]) end
    looked = #page / 2
    if looked == slice then
      redis.call('SET', cursor_key, at + looked)
      return looked
    end
    redis.call('DEL', cursor_key)
    cust_at = 0
  end
  -- Then the customer files no conversation brings along (imported ones):
  -- marked changed, by customer number.
  local last = tonumber(redis.call('GET', p .. 'next:customer') or '0')
  local upto = math.min(last, cust_at + slice - looked)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  for n = cust_at + 1, upto do
    local id = 'cu_' .. n
    if redis.call('LLEN', p .. 'cust:' .. id .. ':conversations') == 0 and redis.call('EXISTS', p .. 'cust:' .. id) == 1 then
      redis.call('ZADD', p .. 'search:dirty:cust', 'NX', now, id)
    end
  end
  if upto < last then redis.call('SET', cust_cursor_key, upto) else redis.call('DEL', cust_cursor_key) end
  return looked + upto - cust_at
end

if op == 'query' then
  local allowed = {}
  for t in string.gmatch(ARGV[3], '[^,]+') do allowed[t] = true end
  local admin, limit, key, last_is_prefix, cap = ARGV[4] == '1', tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1', tonumber(ARGV[8])
  local words = {}
  for k = 9, #ARGV do words[#words + 1] = ARGV[k] end

  -- The newest 2000 documents of one kind ('t' conversations, 'c' customers)
  -- with every word, and the words a candidate's terms must still be checked
  -- for: a word whose set was trimmed (a common word) does not narrow them.
  local function candidates(kind)
    local tmp_last, tmp_all = p .. 'search:tmp:last', p .. 'search:tmp:all'
    local complete, checked = {}, {}
    for w = 1, #words do
      local word, set, trimmed = words[w], search_term_key(kind, words[w]), false
      local prefix = w == #words and last_is_prefix
      if prefix then
        -- The word being typed: the terms it starts, in spelling order (the
        -- word itself first), up to 30 terms or `cap` documents in all, so a
        -- short common start costs a bounded union.
        local keys, documents = {}, 0
        for _, t in ipairs(redis.call('ZRANGEBYLEX', p .. 'search:vocab', '[' .. word, '[' .. word .. '\255', 'LIMIT', 0, 31)) do
          local size = redis.call('ZCARD', search_term_key(kind, t))
          if size > 0 then
            if #keys == 30 or (#keys > 0 and documents + size > cap) then trimmed = true; break end
            keys[#keys + 1] = search_term_key(kind, t)
            documents = documents + size
            trimmed = trimmed or size >= cap
          end
        end
        if #keys == 0 then return {}, {} end
        if #keys == 1 then set = keys[1] else
          zstore('ZUNIONSTORE', tmp_last, keys)
          set = tmp_last
        end
      else
        local size = redis.call('ZCARD', set)
        if size == 0 then return {}, {} end
        trimmed = size >= cap
      end
      if trimmed then checked[#checked + 1] = { word = word, prefix = prefix, set = set }
      else complete[#complete + 1] = set end
    end
    local sets = complete
    if #sets == 0 then
      -- Only common words: the newest documents of their sets.
      for _, c in ipairs(checked) do sets[#sets + 1] = c.set end
      checked = {}
    end
    local source = sets[1]
    if #sets > 1 then
      zstore('ZINTERSTORE', tmp_all, sets)
      source = tmp_all
    end
    local ids = redis.call('ZREVRANGE', source, 0, 1999)
    redis.call('DEL', tmp_last, tmp_all)
    return ids, checked
  end

  local function has_words(id, checked)
    if #checked == 0 then return true end
    local terms = ' ' .. (redis.call('HGET', p .. 'search:terms', id) or '') .. ' '
    for _, c in ipairs(checked) do
      if not string.find(terms, ' ' .. c.word .. (c.prefix and '' or ' '), 1, true) then return false end
    end
    return true
  end

  local conversations, more = {}, false
  if #words > 0 then
    local ids, checked = candidates('t')
    for _, id in ipairs(ids) do
      if allowed[redis.call('HGET', conv_key(id), 'team') or ''] and has_words(id, checked) then
        if #conversations == limit then more = true; break end
        conversations[#conversations + 1] = conv_view(id)
      end
    end
  end

  -- Customer files an agent may open: with a conversation in their teams
  -- among the newest 100, as the customer file routes check
  -- (max_customer_conversations in gateway/src/console_api.cpp).
  local customers, seen, looked = {}, {}, 0
  local function visible(id)
    if admin then return true end
    for _, c in ipairs(redis.call('LRANGE', p .. 'cust:' .. id .. ':conversations', -100, -1)) do
      if allowed[redis.call('HGET', conv_key(c), 'team') or ''] then return true end
    end
    return false
  end
  local function add_customer(id)
    if seen[id] or #customers >= limit or looked >= 3 * limit then return end
    seen[id] = true
    looked = looked + 1
    local c = redis.call('HMGET', p .. 'cust:' .. id, 'name', 'language', 'vip', 'email', 'phone', 'last_seen_at',
      'merged_into', 'created_at')
    if (c[1] or c[8]) and not c[7] and visible(id) then
      customers[#customers + 1] = { id = id, name = c[1] or '', language = c[2] or '', vip = c[3] == '1',
        email = c[4] or nil, phone = c[5] or nil, last_seen_at = tonumber(c[6] or '') }
    end
  end
  if key ~= '' then
    local holder = redis.call('GET', p .. 'key:' .. key)
    if holder then add_customer(holder) end
  end
  if #words > 0 then
    local ids, checked = candidates('c')
    for _, id in ipairs(ids) do
      if #customers >= limit or looked >= 3 * limit then break end
      if has_words(id, checked) then add_customer(id) end
    end
  end
  -- cjson writes an empty table as {}; the arrays are spliced by hand.
  local function array(t) return #t == 0 and '[]' or cjson.encode(t) end
  return '{"conversations":' .. array(conversations) .. ',"customers":' .. array(customers) ..
    ',"more":' .. tostring(more) .. '}'
end

return redis.error_reply('unknown op ' .. tostring(op))
