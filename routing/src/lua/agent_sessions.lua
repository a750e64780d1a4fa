-- Agent login sessions (gateway/src/agent_directory.cpp). A session is
-- session:<sha256 of its token> → agent id, listed in agent:<id>:sessions so
-- that a password change or a removal can end them all. Every end of access
-- is published on <prefix>agent_access, {"agent","session","reason",
-- "signed_out"}: each gateway instance closes that agent's open sockets
-- (session "": all of them); signed out, they stop counting as present.
-- ARGV: prefix, op, ...
--   open   agent, session, ttl_s, the password hash the login was checked
--          against: 'changed' (no session) when the password changed or the
--          agent went while it was being checked; then the same password
--          hashed again at more rounds, or '': it replaces the checked hash
--   close  session, reason: a logout, that session only
--   end    agent, reason, drop: every socket of the agent closes; drop '1':
--          the sessions end too ('0': the console reconnects with new rights)
local op = ARGV[2]
local function session_key(s) return p .. 'session:' .. s end
local function sessions_of(a) return agent_key(a) .. ':sessions' end
local function announce(a, session, reason, signed_out)
  redis.call('PUBLISH', p .. 'agent_access',
    cjson.encode({ agent = a, session = session, reason = reason, signed_out = signed_out }))
end

if op == 'open' then
  local a, session, ttl, hash = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  if redis.call('HGET', agent_key(a), 'password') ~= hash then return { 'changed' } end
  local rehashed = ARGV[7] or ''
  if rehashed ~= '' then redis.call('HSET', agent_key(a), 'password', rehashed) end
  local list = sessions_of(a)
  -- Expired sessions leave their entries: dropped here, so the list stays as short as the agent's devices.
  for _, s in ipairs(redis.call('SMEMBERS', list)) do
    if redis.call('EXISTS', session_key(s)) == 0 then redis.call('SREM', list, s) end
  end
  redis.call('SET', session_key(session), a, 'EX', ttl)
  redis.call('SADD', list, session)
  redis.call('EXPIRE', list, ttl)  -- every session it lists ends by then
  return { 'ok' }
end
if op == 'close' then
  local session, reason = ARGV[3], ARGV[4]
  local a = redis.call('GET', session_key(session))
  if not a then return { 'none' } end
  redis.call('DEL', session_key(session))
  redis.call('SREM', sessions_of(a), session)
  announce(a, session, reason, true)
  return { 'ok' }
end
if op == 'end' then
  local a, reason = ARGV[3], ARGV[4]
  if ARGV[5] == '1' then
    local list = sessions_of(a)
    for _, s in ipairs(redis.call('SMEMBERS', list)) do redis.call('DEL', session_key(s)) end
    redis.call('DEL', list)
  end
  announce(a, '', reason, ARGV[5] == '1')
  return { 'ok' }
end
return { 'unknown_op' }
