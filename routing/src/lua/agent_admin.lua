-- Keeps the routing indexes right after an admin changed an agent.
-- ARGV: prefix, op, agent, now_ms, old_teams (comma list).
--   claim:   a new agent's login (ARGV[3]) and id: {'ok', id} or {'exists'}
--   demote:  the agent's role becomes 'agent' only if another admin remains:
--            {'ok'} or {'last_admin'}. Counted and written in one step, so two
--            admins demoting each other at once cannot both succeed.
--   reindex: teams or capacity changed (the agent hash is already updated)
--   delete:  the agent goes; its open conversations go back to their queues.
--            It leaves a tombstone in agents_removed (id → {name, login,
--            removed_at}) so reports still name it, and its id is never
--            given again: its history and CSAT stay its own.
local op, a, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
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
  local others = 0
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'agents')) do
    if id ~= a and redis.call('HGET', agent_key(id), 'role') == 'admin' then others = others + 1 end
  end
  if others == 0 then return { 'last_admin' } end
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
