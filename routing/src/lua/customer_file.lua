-- The customer file: the customer hash, their identities on every channel and
-- their conversations (newest last), as one JSON object; '' when unknown.
-- ARGV: prefix, customer id, max conversations.
local ckey = p .. 'cust:' .. ARGV[2]
if redis.call('EXISTS', ckey) == 0 then return '' end
local h = redis.call('HGETALL', ckey)
local c = {}
for i = 1, #h, 2 do c[h[i]] = h[i + 1] end
local identities = {}
for _, v in ipairs(redis.call('HVALS', ckey .. ':identities')) do identities[#identities + 1] = cjson.decode(v) end
local conversations = {}
for _, id in ipairs(redis.call('LRANGE', ckey .. ':conversations', -tonumber(ARGV[3]), -1)) do
  if redis.call('EXISTS', conv_key(id)) == 1 then
    local v = conv_view(id)
    v.labels = redis.call('HGET', conv_key(id), 'labels') or nil
    conversations[#conversations + 1] = v
  end
end
return cjson.encode({ customer = c, identities = identities, conversations = conversations,
  conversation_count = redis.call('LLEN', ckey .. ':conversations') })
