-- A web chat visitor's hello in one round trip (gateway/src/webchat.cpp): the
-- customer, which conversations to replay, the profile and whether anyone of
-- the team is online (and not away); and how far the customer has read each
-- conversation to replay (customer_read_seq: the widget's unread count);
-- whether the profile's email is proved (one of the file's verified keys:
-- replies that go unread are mailed only to such an address).
-- ARGV: prefix, channel, visitor, asked conv, team, now_ms, window_ms
local channel, visitor, want, team = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now = tonumber(ARGV[6])
local online = webchat_agents_online(team, now - tonumber(ARGV[7]), now)
local prof = redis.call('HMGET', p .. 'webchat:visitor:' .. channel .. ':' .. visitor, 'name', 'email')
local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. visitor)
if not cust then return { '', '', '', prof[1] or '', prof[2] or '', '', online, 0, 0, 0 } end
local ckey = p .. 'cust:' .. cust
-- A rating that opened a conversation of its own (a closed side conversation,
-- aftersales.lua) is shown in the conversation it rated: that one is replayed.
local function shown(conv)
  local h = redis.call('HMGET', conv_key(conv), 'side', 'side_of')
  if h[1] and h[2] and h[2] ~= '' then return h[2] end
  return conv
end
local asked = ''
if want ~= '' then
  local owner = redis.call('HMGET', conv_key(want), 'customer_id', 'channel')
  if owner[1] == cust and owner[2] == channel then asked = shown(want) end
end
local open = redis.call('GET', ckey .. ':open:' .. channel) or ''
if open == '' and asked == '' then
  local recent = redis.call('LRANGE', ckey .. ':conversations', -20, -1)
  for i = #recent, 1, -1 do
    if redis.call('HGET', conv_key(recent[i]), 'channel') == channel then open = shown(recent[i]); break end
  end
end
local c = redis.call('HMGET', ckey, 'name', 'email', 'language')
local name, email = prof[1] or '', prof[2] or ''
if name == '' then name = c[1] or '' end
if email == '' then email = c[2] or '' end
local function read_seq(conv)
  if conv == '' then return 0 end
  return tonumber(redis.call('HGET', conv_key(conv), 'customer_read_seq') or '0')
end
local proved = email_proved(cust, email) and 1 or 0
return { cust, asked, open, name, email, c[3] or '', online, read_seq(asked), read_seq(open), proved }
