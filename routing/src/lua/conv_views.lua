-- The inbox rows of some conversations, as the list shows them (conv_view
-- with the newest message), in the order asked; one that is gone is left
-- out. The list itself is read and sorted by the gateway
-- (routing/src/inbox_list.cpp), which asks for its page of rows a few dozen
-- at a time, so no call holds Redis long.
-- ARGV: prefix, conversation ids... Answers a JSON array.
local function text_of(x) return type(x) == 'string' and x or '' end

-- A conversation whose newest message came before the hash kept it (older
-- versions): taken from the end of its log once and kept. An edit is logged
-- as a later "message" event of the message it edits, so the newest message
-- is the newest that is no edit, with its newest text (conv:<id>:edits).
local function last_message_from_log(id)
  for _, entry in ipairs(redis.call('XREVRANGE', conv_key(id) .. ':log', '+', '-', 'COUNT', 20)) do
    local f = cjson.decode(entry[2][2])
    local m = f.event == 'message' and not f.edit and f.message
    if m then
      local seq = tonumber(m.seq) or f.seq
      local edited = redis.call('HGET', conv_key(id) .. ':edits', tostring(seq))
      local text = edited and cjson.decode(edited).text or m.text
      local field = last_message_field(seq, tonumber(m.created_at) or 0, text_of(m.author),
        text_of(text), type(m.attachments) == 'table' and #m.attachments > 0, tonumber(m.deleted_at))
      redis.call('HSET', conv_key(id), 'last_message', field)
      return last_message_view(field)
    end
  end
  return nil
end

local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('EXISTS', conv_key(id)) == 1 then
    local v = conv_view(id)
    if not v.last_message then v.last_message = last_message_from_log(id) end
    out[#out + 1] = cjson.encode(v)
  end
end
return '[' .. table.concat(out, ',') .. ']'
