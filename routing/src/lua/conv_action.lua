-- An agent's or admin's action on a conversation, atomically, logged as an
-- event. ARGV: prefix, op, conv, actor, now_ms, arg1, arg2, arg3.
--   assign          arg1 agent, arg2 force ('1': even when away/full), arg3 note
--   transfer_team   arg1 team, arg2 note; then the team's SLA from now (below)
--   escalate        arg1 note            (priority one step up)
--   snooze          arg1 until_ms, arg2 note
--   reopen          (resolved or snoozed -> previous agent when online with room, else queue);
--                   a resolved one then the team's SLA from now (below)
--   resolve
-- The SLA a transfer or a reopen starts: ARGV[9] on (sla_args in routing_lib:
-- team, due times); without it for that team the answer is { 'sla_for', team }
-- and the caller computes it (business hours) and calls again.
-- Answers { 'ok', seq } or { error_code, detail } (agent_offline, agent_away, agent_full: the agent's name).
local op, conv, actor, now = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local a1, a2, a3 = ARGV[6] or '', ARGV[7] or '', ARGV[8] or ''
local vkey = conv_key(conv)
local h = redis.call('HMGET', vkey, 'status', 'assignee', 'team', 'customer_id', 'channel', 'priority')
local status, assignee, team = h[1], h[2] or '', h[3]
if not status then return { 'not_found', '' } end
if status == 'closed' then return { 'invalid_state', status } end

local function with_note(t)
  if a2 ~= '' and op == 'transfer_team' then t.note = a2 end
  if a3 ~= '' and op == 'assign' then t.note = a3 end
  if a1 ~= '' and op == 'escalate' then t.note = a1 end
  if a2 ~= '' and op == 'snooze' then t.note = a2 end
  return t
end

if op == 'assign' then
  if status == 'resolved' then return { 'invalid_state', status } end
  if redis.call('EXISTS', agent_key(a1)) == 0 then return { 'agent_not_found', a1 } end
  if assignee == a1 and status == 'assigned' then return { 'unchanged', redis.call('HGET', vkey, 'seq') } end
  local refused = take_refusal(a1, now, a2 == '1')
  if refused then return { refused, agent_name(a1) } end
  local reason = actor == a1 and 'taken' or (assignee ~= '' and 'transfer' or 'manual')
  local seq = assign_to(conv, a1, now, actor, reason, with_note({}))
  if assignee ~= '' and assignee ~= a1 then drain_agent(assignee, now, 10) end
  return { 'ok', tostring(seq) }
end

if op == 'transfer_team' then
  if status == 'resolved' then return { 'invalid_state', status } end
  if not redis.call('HGET', p .. 'team_strategy', a1) then return { 'team_not_found', a1 } end
  -- The new team's targets from now; a first response already given stays given.
  local ask = restart_sla(conv, 9, a1, false)
  if ask then return ask end
  release(conv, assignee, now)
  redis.call('ZREM', p .. 'queue:' .. team, conv)
  redis.call('ZREM', p .. 'timers:reassign', conv)
  redis.call('ZREM', p .. 'team:' .. team .. ':open', conv)
  redis.call('HSET', vkey, 'team', a1, 'assignee', '', 'routed', '1')
  redis.call('ZADD', p .. 'team:' .. a1 .. ':open', now, conv)
  local seq = change_status(conv, 'queued', actor, now,
    with_note({ reason = 'transfer', team = a1, from_team = team, previous_assignee = assignee }))
  enqueue(conv, now)
  drain_team(a1, now, 10)
  if assignee ~= '' then drain_agent(assignee, now, 10) end
  return { 'ok', tostring(seq) }
end

if op == 'escalate' then
  local old = h[6] or 'normal'
  local new = PRIORITY_UP[old]
  if not new then return { 'unchanged', redis.call('HGET', vkey, 'seq') } end
  redis.call('HSET', vkey, 'priority', new, 'updated_at', now)
  if status == 'queued' then queue_again(conv, now) end
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  emit(conv, seq, 'priority', with_note({ priority = new, from = old, actor = actor, at = now }))
  return { 'ok', tostring(seq) }
end

if op == 'snooze' then
  if status == 'resolved' or status == 'snoozed' then return { 'invalid_state', status } end
  local until_ms = tonumber(a1)
  if not until_ms or until_ms <= now then return { 'invalid_until', a1 } end
  release(conv, assignee, now)
  redis.call('ZREM', p .. 'queue:' .. team, conv)
  redis.call('ZREM', p .. 'timers:reassign', conv)
  redis.call('HSET', vkey, 'snoozed_until', until_ms)
  redis.call('ZADD', p .. 'timers:snooze', until_ms, conv)
  local seq = change_status(conv, 'snoozed', actor, now, with_note({ ['until'] = until_ms }))
  if assignee ~= '' then drain_agent(assignee, now, 10) end
  return { 'ok', tostring(seq) }
end

if op == 'reopen' then
  if status ~= 'resolved' and status ~= 'snoozed' then return { 'invalid_state', status } end
  -- A resolved one is a new contact: its SLA counts again from now. (A
  -- snoozed one's ran on while it slept.)
  if status == 'resolved' then
    local ask = restart_sla(conv, 9, team, true)
    if ask then return ask end
  end
  local open_key = p .. 'cust:' .. h[4] .. ':open:' .. h[5]
  local holder = redis.call('GET', open_key)
  if not holder or holder == conv then redis.call('SET', open_key, conv) end
  back_to_open(conv, team, now)
  local seq = route_back(conv, now, actor, status == 'resolved' and 'reopened' or 'unsnoozed')
  return { 'ok', tostring(seq) }
end

if op == 'resolve' then
  if status == 'resolved' then return { 'unchanged', redis.call('HGET', vkey, 'seq') } end
  local seq = resolve_conversation(conv, { assignee = assignee, team = team, customer_id = h[4], channel = h[5] },
    actor, now, nil)
  if assignee ~= '' then drain_agent(assignee, now, 10) end
  return { 'ok', tostring(seq) }
end

return { 'unknown_op', op }
