-- Drops acknowledged outbox entries older than the retention edge. Never an
-- entry that is still pending or not yet read by every group.
-- ARGV: prefix, outbox key, edge id ("<ms>-0").
local key, edge = ARGV[2], ARGV[3]
if redis.call('EXISTS', key) == 0 then return 0 end

local function id_parts(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function older(a, b)
  local am, as = id_parts(a)
  local bm, bs = id_parts(b)
  return am < bm or (am == bm and as < bs)
end

local safe = edge
local groups = redis.call('XINFO', 'GROUPS', key)
for _, g in ipairs(groups) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] end
    if g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  if last and older(last, safe) then safe = last end
  local summary = redis.call('XPENDING', key, name)
  if summary[2] and older(summary[2], safe) then safe = summary[2] end
end
return redis.call('XTRIM', key, 'MINID', '~', safe)
