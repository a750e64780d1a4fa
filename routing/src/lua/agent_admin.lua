-- Keeps the routing indexes right after an admin changed an agent.
-- ARGV: prefix, op, agent, now_ms, old_teams (comma list).
--   reindex: teams or capacity changed (the agent hash is already updated)
--   delete:  the agent goes; its open conversations go back to their queues
local op, a, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
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
  if login then redis.call('DEL', p .. 'agent_login:' .. login) end
  redis.call('DEL', agent_key(a), agent_key(a) .. ':convs')
  redis.call('SREM', p .. 'agents', a)
  return { 'ok' }
end
return { 'unknown_op' }
