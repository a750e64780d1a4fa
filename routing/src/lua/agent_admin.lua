-- Keeps the routing indexes right after an admin changed an agent.
-- ARGV: prefix, op, agent, now_ms, old_teams (comma list), acting admin
-- (demote and delete; '' for none: a command line or a test).
--   claim:   a new agent's login (ARGV[3]) and id: {'ok', id} or {'exists'}
--   demote:  the agent's role becomes 'agent' only if another admin remains:
--            {'ok'} or {'last_admin'}. Counted and written in one step, so two
--            admins demoting each other at once cannot both succeed.
--   reindex: teams or capacity changed (the agent hash is already updated)
--   delete:  the agent goes; its open conversations go back to their queues.
--            It leaves a tombstone in agents_removed (id → {name, login,
--            removed_at}) so reports still name it, and its id is never
--            given again: its history and CSAT stay its own. Checked in the
--            same step as demote: {'last_admin'} when it is the last admin,
--            {'not_found'} when gone already.
-- Demote and delete answer {'not_admin'} when the acting admin was removed
-- or demoted since the request was let in (two admins removing each other
-- at once: the second finds the first gone).
local op, a, now, actor = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[6] or ''
local function is_admin(id) return redis.call('HGET', agent_key(id), 'role') == 'admin' end
local function other_admins(id)
  local n = 0
  for _, other in ipairs(redis.call('SMEMBERS', p .. 'agents')) do
    if other ~= id and is_admin(other) then n = n + 1 end
  end
  return n
end
-- Whether the agent may lose its admin role (or go): another admin stays,
-- and whoever asks is still one. Nil when it may, else the answer.
local function refusal(id)
  if is_admin(id) and other_admins(id) == 0 then return { 'last_admin' } end
  if actor ~= '' and not is_admin(actor) then return { 'not_admin' } end
  return nil
end
if op == 'claim' then
  local login_key = p .. 'agent_login:' .. a
  if redis.call('EXISTS', login_key) == 1 then return { 'exists' } end
  -- ag_<login> the first time; else the first ag_<login>_<n> never given
  -- (agent_ids lists every id given; agents from before it by their hash).
  local base, n = 'ag_' .. a, 1
  local id = base
  while redis.call('SISMEMBER', p .. 'agent_ids', id) == 1 or redis.call('EXISTS', agent_key(id)) == 1 do
    n = n + 1
    id = base .. '_' .. n
  end
  redis.call('SADD', p .. 'agent_ids', id)
  redis.call('SET', login_key, id)
  return { 'ok', id }
end
if op == 'demote' then
  local refused = refusal(a)
  if refused then return refused end
  redis.call('HSET', agent_key(a), 'role', 'agent')
  return { 'ok' }
end
for t in string.gmatch(ARGV[5] or '', '[^,]+') do redis.call('ZREM', p .. 'team:' .. t .. ':avail', a) end
if op == 'reindex' then
  if index_agent(a, now) then drain_agent(a, now, 200) end
  publish_presence(a, now)
  return { 'ok' }
end
if op == 'delete' then
  if redis.call('EXISTS', agent_key(a)) == 0 then return { 'not_found' } end
  local refused = refusal(a)
  if refused then return refused end
  for _, t in ipairs(agent_teams(a)) do redis.call('ZREM', p .. 'team:' .. t .. ':avail', a) end
  redis.call('ZREM', p .. 'presence', a)
  redis.call('DEL', p .. 'presence:' .. a)
  redis.call('HSET', agent_key(a), 'availability', 'away')
  for _, conv in ipairs(redis.call('SMEMBERS', agent_key(a) .. ':convs')) do
    local vkey = conv_key(conv)
    redis.call('SREM', agent_key(a) .. ':convs', conv)
    redis.call('ZREM', p .. 'timers:reassign', conv)
    if redis.call('HGET', vkey, 'status') == 'assigned' then
      requeue(conv, a, now, 'system', { reason = 'agent_removed' })
      drain_team(redis.call('HGET', vkey, 'team'), now, 10)
    end
  end
  local login = redis.call('HGET', agent_key(a), 'login')
  if login then
    redis.call('DEL', p .. 'agent_login:' .. login)
    -- The addresses this person signed in from are no credential of the next one with the login.
    redis.call('DEL', p .. 'login_known:' .. login)
  end
  local name = redis.call('HGET', agent_key(a), 'name')
  redis.call('HSET', p .. 'agents_removed', a,
    cjson.encode({ name = name or a, login = login or '', removed_at = now }))
  redis.call('SADD', p .. 'agent_ids', a)
  redis.call('DEL', agent_key(a), agent_key(a) .. ':convs')
  redis.call('SREM', p .. 'agents', a)
  return { 'ok' }
end
return { 'unknown_op' }
