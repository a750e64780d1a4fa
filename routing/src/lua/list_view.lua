-- Conversations for the inbox, newest activity first, with the counts of
-- every view. ARGV: prefix, agent, teams (comma list the caller may see),
-- view (mine | unassigned | team | all), status ('' = every open one, or one
-- status), team filter ('' = all visible), limit, offset, scan_cap (per team),
-- with_own ('1': the agent's own conversations beyond the page come after it).
-- Answers one JSON object: { conversations: [...], total, counts: { mine, unassigned, team, all } }.
local me, view, want, only_team = ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local limit, offset, cap = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local with_own = ARGV[10] == '1'
local teams = {}
for t in string.gmatch(ARGV[3], '[^,]+') do teams[#teams + 1] = t end
local mine_teams = {}
for _, t in ipairs(agent_teams(me)) do mine_teams[t] = true end

local seen, rows = {}, {}
local counts = { mine = 0, unassigned = 0, team = 0, all = 0 }
-- `open_list`: the team's open list the id came from; an ended conversation
-- left there (by earlier versions) is taken out, so it never crowds
-- the open ones out of the scan.
local function consider(id, score, open_list)
  if seen[id] then return end
  seen[id] = true
  local h = redis.call('HMGET', conv_key(id), 'status', 'assignee', 'team')
  local st, who, t = h[1], h[2] or '', h[3]
  if not st then return end
  local open = st ~= 'resolved' and st ~= 'closed'
  if not open and open_list then redis.call('ZREM', open_list, id) end
  if open then
    counts.all = counts.all + 1
    if mine_teams[t] then counts.team = counts.team + 1 end
    if who == me and st == 'assigned' then counts.mine = counts.mine + 1 end
    if st == 'queued' then counts.unassigned = counts.unassigned + 1 end
  end
  if only_team ~= '' and t ~= only_team then return end
  if want == '' then
    if not open then return end
  elseif want == 'open' then
    if not open then return end
  elseif st ~= want then
    return
  end
  if view == 'mine' and who ~= me then return end
  if view == 'unassigned' and who ~= '' then return end
  if view == 'team' and not mine_teams[t] then return end
  rows[#rows + 1] = { id, tonumber(score), who == me }
end

local source = (want == 'resolved' or want == 'closed') and ':resolved' or ':open'
for _, t in ipairs(teams) do
  local list = p .. 'team:' .. t .. source
  local ids = redis.call('ZREVRANGE', list, 0, cap - 1, 'WITHSCORES')
  for i = 1, #ids, 2 do consider(ids[i], ids[i + 1], source == ':open' and list) end
end
for _, id in ipairs(redis.call('SMEMBERS', agent_key(me) .. ':convs')) do
  consider(id, redis.call('HGET', conv_key(id), 'updated_at') or '0')
end
-- A conversation whose newest message came before the hash kept it (older
-- versions): taken from the end of its log once and kept.
local function text_of(x) return type(x) == 'string' and x or '' end
-- An edit is logged as a later "message" event of the message it edits, so
-- the newest message is the newest that is no edit, with its newest text
-- (conv:<id>:edits).
local function last_message_from_log(id)
  for _, entry in ipairs(redis.call('XREVRANGE', conv_key(id) .. ':log', '+', '-', 'COUNT', 20)) do
    local f = cjson.decode(entry[2][2])
    local m = f.event == 'message' and not f.edit and f.message
    if m then
      local seq = tonumber(m.seq) or f.seq
      local edited = redis.call('HGET', conv_key(id) .. ':edits', tostring(seq))
      local text = edited and cjson.decode(edited).text or m.text
      local field = last_message_field(seq, tonumber(m.created_at) or 0, text_of(m.author),
        text_of(text), type(m.attachments) == 'table' and #m.attachments > 0)
      redis.call('HSET', conv_key(id), 'last_message', field)
      return last_message_view(field)
    end
  end
  return nil
end

local function row_view(id)
  local v = conv_view(id)
  if not v.last_message then v.last_message = last_message_from_log(id) end
  return v
end

table.sort(rows, function(x, y) return x[2] > y[2] end)
local out = {}
for i = offset + 1, math.min(#rows, offset + limit) do out[#out + 1] = row_view(rows[i][1]) end
if with_own then
  for i = offset + limit + 1, #rows do
    if rows[i][3] then out[#out + 1] = row_view(rows[i][1]) end
  end
end
local result = { total = #rows, counts = counts }
local encoded = cjson.encode(result)
-- cjson writes an empty table as {}; splice the array by hand.
local list = #out == 0 and '[]' or cjson.encode(out)
return '{"conversations":' .. list .. ',' .. string.sub(encoded, 2)
