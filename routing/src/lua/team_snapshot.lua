-- The open conversations of a team, newest first, as one JSON array.
-- ARGV: prefix, team, limit.
local ids = redis.call('ZREVRANGE', p .. 'team:' .. ARGV[2] .. ':open', 0, tonumber(ARGV[3]) - 1)
local out = {}
for i, id in ipairs(ids) do out[i] = conv_view(id) end
if #out == 0 then return '[]' end
return cjson.encode(out)
