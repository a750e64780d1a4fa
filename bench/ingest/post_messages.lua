-- wrk script: every request is a new API-channel message from one of many
-- customers, each with a unique message id (so nothing is deduplicated).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  api_key = os.getenv("BENCH_API_KEY") or "bench-key"
  customers = tonumber(os.getenv("BENCH_CUSTOMERS") or "50000")
  math.randomseed(os.time() + (tid or 0))
end

request = function()
  counter = counter + 1
  local customer = math.random(customers)
  local body = string.format(
    '{"message_id":"b%d-%d-%d","customer":{"id":"c%d","name":"Customer %d"},"text":"سلام، گارانتی دستگاه من تا کی اعتبار دارد؟ order %d"}',
    tid or 0, os.time(), counter, customer, customer, counter)
  return wrk.format("POST", "/api/v1/channels/api/messages",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. api_key }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
