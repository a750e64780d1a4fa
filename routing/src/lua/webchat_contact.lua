-- A web chat visitor's pre-chat contact details (gateway/src/webchat.cpp).
-- An email typed into a form is not a verified key (issue 8): anyone can type
-- anyone's address, so it links nothing here. It is kept on the visitor
-- (ingest.lua gives the visitor's new file it) and on the visitor's own file
-- (the fallback mails replies there once it is proved); a file that holds
-- it only gets a typed_email suggestion (the console says the address was
-- typed, not proved). The gateway mails a code to the address
-- (webchat_verify.cpp); the visitor typing it into the chat links them
-- (customer_merge.lua 'verify_code'). A file the visitor shares with other identities (merged, or
-- joined by a verified key) keeps a name and email it has.
-- ARGV: prefix, channel, visitor, email, name, ttl_s, email key, now_ms
-- Answers { name, email, the email key to verify ('' when none or proven
-- already), the file's language ('' before the first message) }.
local channel, visitor, email, name, key_email, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7], ARGV[8]
local vkey = p .. 'webchat:visitor:' .. channel .. ':' .. visitor
if email ~= '' then redis.call('HSET', vkey, 'email', email, 'key_email', key_email) end
if name ~= '' then redis.call('HSET', vkey, 'name', name) end
if redis.call('EXISTS', vkey) == 1 then redis.call('EXPIRE', vkey, tonumber(ARGV[6])) end
local verify = key_email
if verify ~= '' and redis.call('HGET', vkey, 'verified_email') == verify then verify = '' end
local language = ''
local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. visitor)
if cust then
  local ckey = p .. 'cust:' .. cust
  local c = redis.call('HMGET', ckey, 'name', 'email', 'language')
  language = c[3] or ''
  -- The visitor's own file: this identity alone.
  local own = redis.call('HLEN', ckey .. ':identities') == 1
  local changed = false
  local function put(field, value, current)
    if value == '' or not (own or (current or '') == '') then return end
    redis.call('HSET', ckey, field, value)
    changed = true
  end
  put('email', email, c[2])
  put('name', name, c[1])
  if key_email ~= '' then
    local holder = redis.call('GET', p .. 'key:email:' .. key_email)
    if holder == cust then verify = '' else suggest_merge(cust, holder, 'typed_email', key_email, now) end
  end
  if changed then search_customer_changed(cust, now) end
end
local prof = redis.call('HMGET', vkey, 'name', 'email')
return { prof[1] or '', prof[2] or '', verify, language }
