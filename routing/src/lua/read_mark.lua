-- An agent's read mark (gateway/src/read_marks.cpp), in one round trip: the
-- mark moves forward only; when it did, the set is trimmed and the agent's
-- other sessions are told. The header names only the agent: the hub passes it
-- to that agent's sessions alone.
-- KEYS: the marks; ARGV: prefix, agent, conv, at, max marks.
local key = KEYS[1]
if redis.call('ZADD', key, 'GT', 'CH', ARGV[4], ARGV[3]) == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', key, 0, -tonumber(ARGV[5]) - 1)
local header = cjson.encode({ team = '', conv = ARGV[3], customer = '', seq = 0, assignee = ARGV[2] })
local frame = cjson.encode({ type = 'read', agent = ARGV[2], conv = ARGV[3], at = tonumber(ARGV[4]) })
publish_event(header, frame)
return 1
