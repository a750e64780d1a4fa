-- Files of a mail (gateway/src/email_store.cpp), staged a chunk at a time on
-- the gateway's files connection (gateway/src/attachment_blobs.cpp), kept in
-- one step: attachment:<id> with name, mime_type, size, channel and
-- conversation '' (unfiled: no agent may open it until the mail is filed),
-- its bytes as attachment:<id>:content.
-- ARGV: prefix, op, then per op:
--   keep   ttl_s, channel, then per file: id, name, mime_type, size -> 1; an
--          error, keeping none, when a part is not whole (its writer drops it)
local op = ARGV[2]

if op == 'keep' then
  local ttl, channel = ARGV[3], ARGV[4]
  for i = 5, #ARGV, 4 do
    if not staged_whole(ARGV[i], tonumber(ARGV[i + 3])) then
      return redis.error_reply('attachments: ' .. ARGV[i] .. ' not staged whole')
    end
  end
  for i = 5, #ARGV, 4 do
    keep_staged(ARGV[i], tonumber(ARGV[i + 3]), ttl,
      { 'name', ARGV[i + 1], 'mime_type', ARGV[i + 2], 'size', ARGV[i + 3], 'channel', channel, 'conversation', '' })
  end
  return 1
end

return redis.error_reply('attachments: unknown op ' .. tostring(op))
