-- Where a web chat customer's conversation waits (gateway/src/webchat.cpp):
-- its status, its place in the team's queue and how many agents are online (not away).
-- ARGV: prefix, conv, now_ms, window_ms
local conv = ARGV[2]
local v = redis.call('HMGET', conv_key(conv), 'status', 'team')
if not v[1] then return { '', 0, 0 } end
local position = 0
if v[1] == 'queued' then
  local rank = redis.call('ZRANK', p .. 'queue:' .. v[2], conv)
  if rank then position = rank + 1 end
end
local now = tonumber(ARGV[3])
local online = webchat_agents_online(v[2], now - tonumber(ARGV[4]), now)
return { v[1], position, online }
